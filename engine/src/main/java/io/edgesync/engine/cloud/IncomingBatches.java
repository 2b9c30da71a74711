package io.edgesync.engine.cloud;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.codec.BatchDecoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.RecordBatch;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;

/**
 * The cloud's side of one session's record batches: resolves the compact envelope (stream numbers,
 * implicit first sequence), refuses codecs the session did not negotiate, and decodes with the
 * session's own {@link BatchDecoder}, which starts empty with the session: a batch of an earlier
 * connection never reaches this decoder. Every refusal is INVALID_BATCH naming the problem; nothing
 * is decoded into the store before all checks passed.
 *
 * <p>Not thread safe: used under the {@link CloudSession}'s monitor. {@link #close()} frees the
 * decoder's native contexts.
 *
 * <p>Public for {@code io.edgesync.engine.edge}'s tests, which decode what the edge engine sends as
 * the cloud would; production code outside this package does not use it.
 */
public final class IncomingBatches implements AutoCloseable {
  /** Most stream numbers one compact session may bind (bounds the session's memory). */
  static final int MAX_STREAM_REFS = 4096;

  /** A checked, decoded batch. */
  public record Decoded(
      String stream, long firstSequence, List<Record> records, Codec codec, long raw) {}

  private final Set<Codec> accepted;
  private final boolean compact;
  private final int maxRecordsPerBatch;
  private final BatchDecoder decoder;
  private final Map<Integer, String> refs = new HashMap<>();
  private final Map<String, Long> lastSeen = new HashMap<>();

  /**
   * @param maxDecodedBytes bound on the record payload bytes one batch may decode to
   */
  public IncomingBatches(
      Set<Codec> accepted, boolean compact, int maxRecordsPerBatch, long maxDecodedBytes) {
    this(accepted, compact, maxRecordsPerBatch, maxDecodedBytes, id -> null);
  }

  /**
   * @param dictionaries the trained dictionaries a batch may name, by id (null: unknown, and the
   *     batch is refused)
   */
  public IncomingBatches(
      Set<Codec> accepted,
      boolean compact,
      int maxRecordsPerBatch,
      long maxDecodedBytes,
      IntFunction<Dictionary> dictionaries) {
    this.accepted = Set.copyOf(accepted);
    this.compact = compact;
    this.maxRecordsPerBatch = maxRecordsPerBatch;
    this.decoder = new BatchDecoder(dictionaries, maxDecodedBytes);
  }

  /** The dictionary id the last decoded batch was compressed with; 0 = none. */
  public int lastDictionaryId() {
    return decoder.lastDictionaryId();
  }

  /** Checks the envelope and decodes the records. */
  public Decoded decode(RecordBatch batch) throws ProtocolException {
    String stream = stream(batch);
    if (batch.getCount() < 1 || batch.getCount() > maxRecordsPerBatch) {
      throw invalid(
          "batch count "
              + Integer.toUnsignedString(batch.getCount())
              + " outside 1.."
              + maxRecordsPerBatch);
    }
    long first = batch.getFirstSequence();
    if (first == 0 && compact && lastSeen.containsKey(stream)) {
      first = lastSeen.get(stream) + 1;
    } else if (first < 1) {
      // uint64 on the wire: values of 2^63 and above arrive negative and are out of range too.
      throw invalid(
          "first_sequence must be within 1.."
              + Long.MAX_VALUE
              + ", was "
              + Long.toUnsignedString(first)
              + (compact
                  ? " (0 continues a stream only after an earlier batch or gap of it in this"
                      + " session)"
                  : ""));
    }
    if (first - 1 > Long.MAX_VALUE - batch.getCount()) {
      throw invalid(
          "batch of "
              + batch.getCount()
              + " records from first_sequence "
              + first
              + " runs past the maximum sequence "
              + Long.MAX_VALUE);
    }
    Codec codec = CodecCapabilities.fromWire(batch.getCodec(), batch.getCodecValue());
    if (!accepted.contains(codec)) {
      throw invalid(
          "codec "
              + codec
              + " ("
              + codec.id()
              + ") was not negotiated in this session; accepted: "
              + new TreeSet<>(accepted));
    }
    List<Record> records =
        decoder.decode(codec, batch.getPayload().toByteArray(), first, batch.getCount());
    long raw = RecordLayout.encodedSize(records);
    if (batch.getRawBytes() != 0 && Integer.toUnsignedLong(batch.getRawBytes()) != raw) {
      throw invalid(
          "raw_bytes "
              + Integer.toUnsignedString(batch.getRawBytes())
              + " does not match the "
              + raw
              + " bytes of the decoded records in the record layout");
    }
    lastSeen.put(stream, first + batch.getCount() - 1);
    return new Decoded(stream, first, records, codec, raw);
  }

  /**
   * A gap of {@code stream} up to {@code lastSequence} arrived: a compact batch may continue it.
   */
  public void onGap(String stream, long lastSequence) {
    lastSeen.put(stream, lastSequence);
  }

  private String stream(RecordBatch batch) throws ProtocolException {
    String name = batch.getStream();
    int ref = batch.getStreamRef();
    if (ref != 0 && !compact) {
      throw invalid("stream_ref is only allowed in a session that negotiated batch:compact");
    }
    if (!name.isEmpty() || ref == 0) {
      if (!ProtocolLimits.isValidStreamName(name)) {
        throw invalid(
            "invalid stream name '" + name + "': must match " + ProtocolLimits.STREAM_NAME_PATTERN);
      }
      if (ref != 0) {
        String bound = refs.get(ref);
        if (bound != null && !bound.equals(name)) {
          throw invalid(
              "stream_ref "
                  + Integer.toUnsignedString(ref)
                  + " is bound to '"
                  + bound
                  + "' in this session and cannot name '"
                  + name
                  + "'");
        }
        if (bound == null) {
          if (refs.size() >= MAX_STREAM_REFS) {
            throw invalid("more than " + MAX_STREAM_REFS + " stream_refs in one session");
          }
          refs.put(ref, name);
        }
      }
      return name;
    }
    String bound = refs.get(ref);
    if (bound == null) {
      throw invalid(
          "stream_ref "
              + Integer.toUnsignedString(ref)
              + " was never bound to a stream name in this session");
    }
    return bound;
  }

  private static ProtocolException invalid(String message) {
    return new ProtocolException(ErrorCode.INVALID_BATCH, message);
  }

  @Override
  public void close() {
    decoder.close();
  }
}

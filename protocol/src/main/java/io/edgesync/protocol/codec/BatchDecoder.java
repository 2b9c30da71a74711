package io.edgesync.protocol.codec;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.codec.internal.ByteSource;
import io.edgesync.protocol.codec.internal.ColumnarDecoder;
import io.edgesync.protocol.codec.internal.Corrupt;
import io.edgesync.protocol.codec.internal.LayoutChecksum;
import io.edgesync.protocol.codec.internal.NativeResource;
import io.edgesync.protocol.codec.internal.RowCodecs;
import io.edgesync.protocol.codec.internal.StreamDecompressor;
import io.edgesync.protocol.codec.internal.TemplateStreamDecoder;
import io.edgesync.protocol.codec.internal.ZstdFrames;
import io.edgesync.protocol.wire.ErrorCode;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Decodes the batches of one session (the cloud side), whatever codec each names. Corrupt,
 * truncated or inconsistent payloads raise {@link ProtocolException} (INVALID_BATCH) with a message
 * naming the codec and what is wrong; a payload never decodes to records other than the ones
 * encoded, because every codec but NONE carries a CRC-32C of the records.
 *
 * <p>Session codecs (ZSTD_STREAM, TEMPLATE_STREAM) need every batch of the session, in the order
 * encoded. After a failed session batch the state is unusable: further session batches are refused
 * until {@link #resetSession()} (the session is over anyway: INVALID_BATCH is fatal).
 *
 * <p>Bounds: a batch decodes to at most {@code maxDecodedBytes} of payload (default 16 MiB); a
 * session's zstd stream may use a history of at most 2^{@link #MAX_WINDOW_LOG} bytes.
 *
 * <p>Not thread safe: one decoder per session. Holds native zstd contexts; {@link #close()} frees
 * them.
 */
public final class BatchDecoder implements AutoCloseable {
  /**
   * Default bound on the payload bytes one batch may decode to: the frame ceiling. Decoding a batch
   * takes memory in proportion to this bound (COLUMNAR: up to about 16 bytes per decoded byte in
   * the worst case), so a server sets it from its batch limits.
   */
  public static final long DEFAULT_MAX_DECODED_BYTES = 16L << 20;

  /** Largest zstd window (log2 bytes) a session stream may ask the decoder to keep. */
  public static final int MAX_WINDOW_LOG = 23;

  private final IntFunction<Dictionary> dictionaries;
  private final long maxDecodedBytes;
  private final ZstdFrames frames = new ZstdFrames(1);
  private ColumnarDecoder columnar;
  private TemplateStreamDecoder template;
  private StreamDecompressor stream;
  private StreamDecompressor rowStream;
  private boolean broken;
  private int lastDictionaryId;
  private int streamDictionaryId;

  /** A decoder without dictionaries and with the default bound. */
  public BatchDecoder() {
    this(List.of(), DEFAULT_MAX_DECODED_BYTES);
  }

  public BatchDecoder(Collection<Dictionary> dictionaries, long maxDecodedBytes) {
    if (maxDecodedBytes <= 0 || maxDecodedBytes > Integer.MAX_VALUE - 1024) {
      throw new IllegalArgumentException("maxDecodedBytes out of range: " + maxDecodedBytes);
    }
    Map<Integer, Dictionary> byId = new HashMap<>();
    for (Dictionary d : dictionaries) {
      byId.put(d.id(), d);
    }
    this.dictionaries = byId::get;
    this.maxDecodedBytes = maxDecodedBytes;
  }

  /**
   * A decoder that looks dictionaries up by id when a batch names one ({@code lookup} returns null
   * for an id it does not have; it is called on the decoding thread and must not block for long).
   */
  public BatchDecoder(IntFunction<Dictionary> lookup, long maxDecodedBytes) {
    if (maxDecodedBytes <= 0 || maxDecodedBytes > Integer.MAX_VALUE - 1024) {
      throw new IllegalArgumentException("maxDecodedBytes out of range: " + maxDecodedBytes);
    }
    this.dictionaries = java.util.Objects.requireNonNull(lookup, "lookup");
    this.maxDecodedBytes = maxDecodedBytes;
  }

  /**
   * The dictionary id the last decoded ZSTD batch named, or the one the session's ZSTD_STREAM
   * started with for a ZSTD_STREAM batch; 0 = none (or another codec).
   */
  public int lastDictionaryId() {
    return lastDictionaryId;
  }

  /**
   * Decodes a batch payload into exactly {@code count} records numbered from {@code firstSequence}.
   *
   * @throws ProtocolException INVALID_BATCH if the payload is not a valid {@code codec} encoding of
   *     {@code count} records
   */
  public List<Record> decode(Codec codec, byte[] payload, long firstSequence, int count)
      throws ProtocolException {
    lastDictionaryId = 0;
    if (count < 0) {
      throw Corrupt.invalid(codec.name(), "negative record count " + count);
    }
    if (codec == Codec.NONE) {
      return RecordLayout.decode(payload, firstSequence, count);
    }
    if (codec.needsSession()) {
      if (broken) {
        throw Corrupt.invalid(
            codec.name(),
            "cannot be decoded: the session's state was lost at an earlier invalid batch");
      }
      try {
        return decodeChecked(codec, payload, firstSequence, count);
      } catch (ProtocolException | RuntimeException e) {
        broken = true;
        throw e;
      }
    }
    return decodeChecked(codec, payload, firstSequence, count);
  }

  private List<Record> decodeChecked(Codec codec, byte[] payload, long first, int count)
      throws ProtocolException {
    String name = codec.name();
    if (payload.length < 4) {
      throw Corrupt.invalid(name, payload.length + " bytes are too short for the checksum");
    }
    int bodyLength = payload.length - 4;
    int expected = new ByteSource(payload, bodyLength, 4, name, "checksum").readIntLittleEndian();
    long layoutLimit = maxDecodedBytes + 20L * count;
    List<Record> records;
    switch (codec) {
      case GZIP -> {
        byte[] layout = RowCodecs.gunzip(payload, 0, bodyLength, layoutLimit);
        return checkedLayout(name, layout, expected, first, count);
      }
      case LZMA -> {
        byte[] layout = RowCodecs.unlzma(payload, 0, bodyLength, layoutLimit);
        return checkedLayout(name, layout, expected, first, count);
      }
      case ZSTD -> {
        ByteSource in = new ByteSource(payload, 0, bodyLength, name, "header");
        Dictionary d = dictionary(name, in.readCount(Integer.MAX_VALUE, "a dictionary id"));
        lastDictionaryId = d == null ? 0 : d.id();
        int length = in.readCount(layoutLimit, "a layout length");
        byte[] layout = new byte[length];
        frames.decompress(
            payload,
            in.position(),
            in.remaining(),
            layout,
            0,
            length,
            d == null ? null : d.forDecompression(),
            name,
            "frame");
        return checkedLayout(name, layout, expected, first, count);
      }
      case ZSTD_STREAM -> {
        ByteSource in = new ByteSource(payload, 0, bodyLength, name, "header");
        StreamDecompressor s = stream(in, name);
        lastDictionaryId = streamDictionaryId;
        int length = in.readCount(layoutLimit, "a layout length");
        byte[] layout = s.decompress(payload, in.position(), in.remaining(), length, name);
        return checkedLayout(name, layout, expected, first, count);
      }
      case COLUMNAR -> {
        if (columnar == null) {
          columnar = new ColumnarDecoder();
        }
        records = columnar.decode(payload, 0, bodyLength, first, count, maxDecodedBytes);
      }
      case TEMPLATE_STREAM -> {
        ByteSource in = new ByteSource(payload, 0, bodyLength, name, "header");
        int flags = in.readByte();
        ByteSource rows;
        if (flags == 1) {
          if (rowStream == null) {
            rowStream = new StreamDecompressor(MAX_WINDOW_LOG, null);
          }
          StreamDecompressor s = rowStream;
          int length = in.readCount(layoutLimit, "a rows length");
          byte[] raw = s.decompress(payload, in.position(), in.remaining(), length, name);
          rows = new ByteSource(raw, 0, raw.length, name, "rows");
        } else if (flags == 0) {
          rows = new ByteSource(payload, in.position(), in.remaining(), name, "rows");
        } else {
          throw in.corrupt("has unknown flags " + flags);
        }
        if (template == null) {
          template = new TemplateStreamDecoder();
        }
        records = template.readRows(rows, first, count, maxDecodedBytes);
      }
      default -> throw new IllegalArgumentException("codec " + codec);
    }
    if (LayoutChecksum.of(records) != expected) {
      throw Corrupt.invalid(name, "checksum does not match the decoded records");
    }
    return records;
  }

  private List<Record> checkedLayout(
      String name, byte[] layout, int expected, long first, int count) throws ProtocolException {
    if (LayoutChecksum.ofLayout(layout, 0, layout.length) != expected) {
      throw Corrupt.invalid(name, "checksum does not match the decompressed records");
    }
    try {
      return RecordLayout.decode(layout, first, count);
    } catch (ProtocolException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH, "invalid " + name + " payload: " + e.getMessage());
    }
  }

  private Dictionary dictionary(String name, int id) throws ProtocolException {
    if (id == 0) {
      return null;
    }
    Dictionary d = dictionaries.apply(id);
    if (d == null) {
      throw Corrupt.invalid(name, "names dictionary " + id + ", which this decoder does not have");
    }
    return d;
  }

  /** The session's stream; the batch that starts it names its dictionary first. */
  private StreamDecompressor stream(ByteSource in, String name) throws ProtocolException {
    if (stream == null) {
      Dictionary d = dictionary(name, in.readCount(Integer.MAX_VALUE, "a dictionary id"));
      stream = new StreamDecompressor(MAX_WINDOW_LOG, d == null ? null : d.forDecompression());
      streamDictionaryId = d == null ? 0 : d.id();
    }
    return stream;
  }

  /** Starts a new session: forgets templates, string dictionaries and the zstd stream. */
  public void resetSession() {
    template = null;
    streamDictionaryId = 0;
    NativeResource.closeAll(stream, rowStream);
    stream = null;
    rowStream = null;
    broken = false;
  }

  @Override
  public void close() {
    NativeResource.closeAll(frames, columnar, stream, rowStream);
  }
}

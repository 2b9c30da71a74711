package io.edgesync.engine.edge;

import com.google.protobuf.UnsafeByteOperations;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.EncodedBatch;
import io.edgesync.protocol.wire.RecordBatch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The edge's side of one session's record batches: the codec negotiated in the handshake, the
 * session's {@link BatchEncoder}, and the compact envelope's per-session stream numbers and
 * continuation. Batches are encoded when they are sent, never earlier: the session codecs
 * (ZSTD_STREAM, TEMPLATE_STREAM) advance with every batch, so a batch encoded and not sent, or sent
 * in an earlier session, would desynchronize the cloud's decoder. Every session starts from a new
 * encoder; a reconnect resends from the cloud's checkpoint with fresh state.
 *
 * <p>Not thread safe: owned by the engine's thread. Holds native zstd contexts while a session is
 * open; {@link #endSession()} frees them.
 */
final class OutgoingBatches {
  /**
   * With {@code zstd} and a raised level, batches of at least this many records leave the session
   * stream for a stateless frame at that level: from about here a frame of its own compresses as
   * well as the stream's context does (docs/codecs.md, benchmarks.md).
   */
  static final int STATELESS_MIN_RECORDS = 300;

  private final CodecSettings configured;
  private final boolean wantCompact;
  private BatchEncoder encoder;
  private CodecSettings effective;
  private Set<Codec> accepted = Set.of(Codec.NONE);
  private boolean compact;
  private final Map<String, Integer> refs = new HashMap<>();
  private final Map<String, Long> lastSent = new HashMap<>();
  private int level;

  private final EdgeDictionaries dictionaries;

  OutgoingBatches(CodecSettings configured, boolean wantCompact) {
    this(configured, wantCompact, new EdgeDictionaries(new NoOutbox(), 0));
  }

  OutgoingBatches(CodecSettings configured, boolean wantCompact, EdgeDictionaries dictionaries) {
    this.configured = configured;
    this.wantCompact = wantCompact;
    this.level = configured.level();
    this.dictionaries = dictionaries;
  }

  /** The trained dictionaries the edge holds. */
  EdgeDictionaries dictionaries() {
    return dictionaries;
  }

  /** What the edge offers in {@code Hello.capabilities}. */
  List<String> offer() {
    List<String> caps = CodecCapabilities.offer(configured);
    if (wantCompact) {
      caps.add(CodecCapabilities.COMPACT_BATCH);
    }
    return caps;
  }

  /** A session starts with what the cloud accepted in {@code Welcome.capabilities}. */
  void startSession(Collection<String> welcomeCapabilities) {
    endSession();
    accepted = CodecCapabilities.codecs(welcomeCapabilities);
    compact = wantCompact && welcomeCapabilities.contains(CodecCapabilities.COMPACT_BATCH);
    effective = CodecCapabilities.negotiate(configured, welcomeCapabilities);
    encoder = new BatchEncoder(effective);
    applyLevel();
  }

  /** The session ended: forget its codec state and stream numbers. */
  void endSession() {
    if (encoder != null) {
      encoder.close();
      encoder = null;
    }
    refs.clear();
    lastSent.clear();
    compact = false;
    dictionaries.endSession();
  }

  boolean inSession() {
    return encoder != null;
  }

  /** The codec family in use this session (after negotiation), or null outside a session. */
  CodecSettings effective() {
    return encoder == null ? null : effective;
  }

  Set<Codec> accepted() {
    return accepted;
  }

  boolean compact() {
    return compact;
  }

  /**
   * What the cloud accepted this session as capability names (codecs, then the compact envelope);
   * empty outside a session.
   */
  List<String> acceptedCapabilities() {
    List<String> names = new ArrayList<>();
    if (effective() != null) {
      for (Codec codec : accepted) {
        if (codec != Codec.NONE) {
          names.add(CodecCapabilities.of(codec));
        }
      }
      if (compact) {
        names.add(CodecCapabilities.COMPACT_BATCH);
      }
    }
    return List.copyOf(names);
  }

  /** The compression level batches are encoded with now. */
  int level() {
    return encoder == null ? level : encoder.level();
  }

  /**
   * Asks for another compression level (the adaptive rule). Stateless codecs take it at once, the
   * session streams from the next session; a value outside the family's range is clamped.
   */
  void setLevel(int wanted) {
    CodecSettings.Choice c = configured.choice();
    int min;
    int max;
    switch (c) {
      case GZIP -> {
        min = 1;
        max = 9;
      }
      case LZMA -> {
        min = 0;
        max = 9;
      }
      case ZSTD, AUTO -> {
        min = -7;
        max = 22;
      }
      default -> {
        return;
      }
    }
    level = Math.max(min, Math.min(max, wanted));
    applyLevel();
  }

  private void applyLevel() {
    if (encoder != null && effective.choice() == configured.choice()) {
      encoder.setLevel(level);
    }
  }

  /** One encoded batch frame body and what it cost. */
  record Encoded(RecordBatch batch, Codec codec, long rawBytes, long payloadBytes) {}

  /**
   * Encodes consecutive records of {@code stream} for the wire, with the envelope of this session
   * and the compression the {@link CodecGovernor} allows: {@code CONFIGURED} the session's codec,
   * {@code FAST} a stateless zstd frame at level 1 (or NONE where the cloud did not accept ZSTD),
   * {@code NONE} the record layout as it is. Neither of the last two touches the session's streams.
   *
   * @throws RuntimeException if encoding failed; the session's codec state is then unusable and the
   *     session must end
   */
  Encoded encode(String stream, List<Record> records, CodecGovernor.Rung rung) {
    EncodedBatch e;
    if (rung == CodecGovernor.Rung.FAST && accepted.contains(Codec.ZSTD)) {
      e = encoder.encodeFast(records);
    } else if (rung != CodecGovernor.Rung.CONFIGURED) {
      e = encoder.encode(records, Codec.NONE);
    } else if (effective.choice() == CodecSettings.Choice.ZSTD
        && effective.contextTakeover()
        && encoder.level() > effective.level()
        && records.size() >= STATELESS_MIN_RECORDS
        && accepted.contains(Codec.ZSTD)) {
      // A slow link raised the level, but the session's stream keeps the configured one (its
      // tables are sized by level): a large batch goes as its own frame at the higher level,
      // without touching the stream.
      e = encoder.encode(records, Codec.ZSTD);
    } else {
      e = encoder.encode(records, dictionaries.forBatch(stream, records.size()));
    }
    Codec codec = e.codec();
    if (!accepted.contains(codec)) {
      // The negotiation never lets this happen; refuse rather than send what the cloud rejects.
      throw new IllegalStateException(
          "encoder chose " + codec + ", which the cloud did not accept (" + accepted + ")");
    }
    long first = records.get(0).sequence();
    long last = records.get(records.size() - 1).sequence();
    RecordBatch.Builder b =
        RecordBatch.newBuilder()
            .setCount(records.size())
            .setCodec(CodecCapabilities.toWire(codec))
            .setPayload(UnsafeByteOperations.unsafeWrap(e.payload()));
    if (compact) {
      Integer ref = refs.get(stream);
      if (ref == null) {
        ref = refs.size() + 1;
        refs.put(stream, ref);
        b.setStream(stream);
      }
      b.setStreamRef(ref);
      Long previous = lastSent.get(stream);
      if (previous == null || previous + 1 != first) {
        b.setFirstSequence(first);
      }
    } else {
      b.setStream(stream).setFirstSequence(first).setRawBytes(e.rawBytes());
    }
    lastSent.put(stream, last);
    return new Encoded(b.build(), codec, e.rawBytes(), e.payload().length);
  }

  /** An outbox that keeps no dictionaries (engines built without one). */
  private static final class NoOutbox implements Outbox {
    @Override
    public String storeId() {
      return "";
    }

    @Override
    public List<StreamState> streams() {
      return List.of();
    }

    @Override
    public Item read(String stream, long fromSequence, int maxRecords, long maxBytes) {
      return null;
    }

    @Override
    public void acknowledge(String stream, long sequence) {}

    @Override
    public Item.Gap markNotRetained(String stream, long cloudCheckpoint) {
      return null;
    }
  }

  /** A gap of {@code stream} up to {@code lastSequence} was sent: a later batch continues it. */
  void onGapSent(String stream, long lastSequence) {
    lastSent.put(stream, lastSequence);
  }
}

package io.edgesync.protocol.codec;

import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.codec.CodecSettings.Choice;
import io.edgesync.protocol.codec.internal.ByteSink;
import io.edgesync.protocol.codec.internal.ColumnarEncoder;
import io.edgesync.protocol.codec.internal.LayoutChecksum;
import io.edgesync.protocol.codec.internal.NativeResource;
import io.edgesync.protocol.codec.internal.RowCodecs;
import io.edgesync.protocol.codec.internal.StreamCompressor;
import io.edgesync.protocol.codec.internal.TemplateStreamEncoder;
import io.edgesync.protocol.codec.internal.Varints;
import io.edgesync.protocol.codec.internal.ZstdFrames;
import java.util.List;

/**
 * Encodes the batches of one session (the edge side). {@link #encode(List)} picks the codec the
 * {@link CodecSettings} ask for — with {@code auto}, per batch: COLUMNAR for large batches of JSON
 * records, TEMPLATE_STREAM for small ones, ZSTD_STREAM (or ZSTD) for anything else — and records
 * the choice in the returned {@link EncodedBatch}, so the decoder knows.
 *
 * <p>Session codecs (ZSTD_STREAM, TEMPLATE_STREAM) carry state from batch to batch: every batch
 * they produce must reach the peer's {@link BatchDecoder}, in the order encoded. When a session
 * ends (disconnect, or any batch lost), call {@link #resetSession()} here and on the decoder.
 *
 * <p>Not thread safe: one encoder per session, used by the session's thread. Holds native zstd
 * contexts; {@link #close()} frees them.
 */
public final class BatchEncoder implements AutoCloseable {
  private static final byte[] EMPTY = new byte[0];

  /**
   * TEMPLATE_STREAM rows below this size go out uncompressed: a flushed zstd block costs a few
   * bytes of headers, which such small rows rarely win back.
   */
  private static final int TEMPLATE_COMPRESS_MIN_BYTES = 48;

  /**
   * The level of {@link #encodeFast}: zstd's fastest positive level. On telemetry it encodes
   * several times faster than COLUMNAR and still shrinks a batch of JSON about tenfold.
   */
  public static final int FAST_ZSTD_LEVEL = 1;

  private final CodecSettings settings;
  private int level;
  private ZstdFrames frames;
  private ZstdFrames fastFrames;
  private final ByteSink out = new ByteSink(4096);
  private final ByteSink rows = new ByteSink(1024);
  private ColumnarEncoder columnar;
  private TemplateStreamEncoder template;
  private StreamCompressor stream;
  private StreamCompressor rowStream;
  private boolean broken;
  private Dictionary batchDictionary;
  private int streamDictionaryId;

  public BatchEncoder(CodecSettings settings) {
    this.settings = settings;
    this.level = settings.level();
    this.frames = new ZstdFrames(zstdLevel());
  }

  public CodecSettings settings() {
    return settings;
  }

  /** The compression level in use (see {@link #setLevel}). */
  public int level() {
    return level;
  }

  /**
   * Changes the compression level of the stateless codecs (GZIP, LZMA, ZSTD, COLUMNAR), at once.
   * The session's streams (ZSTD_STREAM, TEMPLATE_STREAM rows) always use the configured level: a
   * streaming context sizes its tables by level, not by input, so a high level would cost every
   * session tens of megabytes (and their setup time) on the device and in the cloud. Range as in
   * {@link CodecSettings}; ignored for NONE.
   */
  public void setLevel(int newLevel) {
    if (newLevel == level || settings.choice() == Choice.NONE) {
      return;
    }
    // Validates the range for the codec family.
    new CodecSettings(
        settings.choice(),
        newLevel,
        settings.dictionary(),
        settings.contextTakeover(),
        settings.windowLog(),
        settings.columnarMinRecords(),
        settings.columnarSeries());
    level = newLevel;
    frames.close();
    frames = new ZstdFrames(zstdLevel());
    if (columnar != null) {
      columnar.close();
      columnar = null;
    }
  }

  /** Encodes with the codec the settings choose for this batch. */
  public EncodedBatch encode(List<Record> records) {
    return encode(records, (Dictionary) null);
  }

  /**
   * Encodes with the codec the settings choose for this batch, with {@code dictionary} (if not
   * null) in place of the settings' one: a ZSTD batch is compressed with it and names it, and a
   * batch that starts the session's ZSTD_STREAM starts the stream with it (the stream keeps its
   * dictionary until {@link #resetSession()}). TEMPLATE_STREAM and COLUMNAR never use one.
   */
  public EncodedBatch encode(List<Record> records, Dictionary dictionary) {
    batchDictionary = dictionary;
    try {
      return encodeChosen(records);
    } finally {
      batchDictionary = null;
    }
  }

  /**
   * The dictionary id the session's ZSTD_STREAM started with (0 = none, or not started): the id
   * every ZSTD_STREAM batch of this session is compressed with.
   */
  public int streamDictionaryId() {
    return stream == null ? 0 : streamDictionaryId;
  }

  private EncodedBatch encodeChosen(List<Record> records) {
    if (records.isEmpty()) {
      return new EncodedBatch(Codec.NONE, EMPTY, 0);
    }
    return switch (settings.choice()) {
      case NONE -> encode(records, Codec.NONE);
      case GZIP -> encode(records, Codec.GZIP);
      case LZMA -> encode(records, Codec.LZMA);
      case ZSTD -> encode(records, settings.contextTakeover() ? Codec.ZSTD_STREAM : Codec.ZSTD);
      case AUTO -> encodeAuto(records);
    };
  }

  private EncodedBatch encodeAuto(List<Record> records) {
    int n = records.size();
    if (n >= settings.effectiveColumnarMinRecords()) {
      ColumnarEncoder c = columnar();
      c.analyze(records);
      // Worth it when most records share a few shapes.
      if (c.rawCount() * 2 <= n && c.templateCount() * 8 <= n) {
        return finishColumnar(records);
      }
    }
    if (!settings.contextTakeover()) {
      return encode(records, Codec.ZSTD);
    }
    if (template().fits(records.get(0).payload())) {
      return encode(records, Codec.TEMPLATE_STREAM);
    }
    return encode(records, Codec.ZSTD_STREAM);
  }

  /**
   * Encodes as a stateless ZSTD frame at {@link #FAST_ZSTD_LEVEL} without a dictionary, whatever
   * the settings say: the cheapest encoding that still compresses, for when the encoder and not the
   * link limits how fast batches leave. Leaves the session's streams untouched.
   */
  public EncodedBatch encodeFast(List<Record> records) {
    if (fastFrames == null) {
      fastFrames = new ZstdFrames(FAST_ZSTD_LEVEL);
    }
    out.clear();
    byte[] layout = RecordLayout.encode(records);
    out.varint(0);
    out.varint(layout.length);
    fastFrames.compress(layout, 0, layout.length, out, null);
    return finishLayout(Codec.ZSTD, layout);
  }

  /**
   * Encodes with the given codec, whatever the settings say (levels and dictionary still apply).
   */
  public EncodedBatch encode(List<Record> records, Codec codec) {
    if (codec.needsSession() && broken) {
      throw new IllegalStateException(
          "the session's compression state was lost by an earlier failure; call resetSession()");
    }
    out.clear();
    switch (codec) {
      case NONE -> {
        byte[] layout = RecordLayout.encode(records);
        return new EncodedBatch(Codec.NONE, layout, layout.length);
      }
      case GZIP -> {
        byte[] layout = RecordLayout.encode(records);
        RowCodecs.gzip(layout, settings.choice() == Choice.GZIP ? level : 6, out);
        return finishLayout(codec, layout);
      }
      case LZMA -> {
        byte[] layout = RecordLayout.encode(records);
        RowCodecs.lzma(layout, settings.choice() == Choice.LZMA ? level : 6, out);
        return finishLayout(codec, layout);
      }
      case ZSTD -> {
        byte[] layout = RecordLayout.encode(records);
        Dictionary d = dictionary();
        out.varint(d == null ? 0 : d.id());
        out.varint(layout.length);
        frames.compress(
            layout, 0, layout.length, out, d == null ? null : d.forCompression(zstdLevel()));
        return finishLayout(codec, layout);
      }
      case ZSTD_STREAM -> {
        byte[] layout = RecordLayout.encode(records);
        sessionStream(
            () -> {
              StreamCompressor s = stream();
              if (!s.started()) {
                out.varint(dictionaryId());
              }
              out.varint(layout.length);
              s.compressAndFlush(layout, 0, layout.length, out);
            });
        return finishLayout(codec, layout);
      }
      case COLUMNAR -> {
        columnar().analyze(records);
        return finishColumnar(records);
      }
      case TEMPLATE_STREAM -> {
        sessionStream(
            () -> {
              rows.clear();
              template().writeRows(records, rows);
              if (rows.size() >= TEMPLATE_COMPRESS_MIN_BYTES) {
                out.write(1);
                out.varint(rows.size());
                rowStream().compressAndFlush(rows.array(), 0, rows.size(), out);
              } else {
                out.write(0);
                out.write(rows);
              }
            });
        return finishRecords(codec, records);
      }
    }
    throw new IllegalArgumentException("codec " + codec);
  }

  /**
   * Starts a new session: forgets templates, dictionaries of strings and the zstd stream. Call it
   * whenever the peer's decoder starts over (a new connection).
   */
  public void resetSession() {
    template = null;
    NativeResource.closeAll(stream, rowStream);
    stream = null;
    rowStream = null;
    broken = false;
  }

  @Override
  public void close() {
    NativeResource.closeAll(frames, fastFrames, columnar, stream, rowStream);
  }

  private interface Step {
    void run();
  }

  private void sessionStream(Step step) {
    try {
      step.run();
    } catch (RuntimeException | Error e) {
      broken = true;
      throw e;
    }
  }

  private EncodedBatch finishColumnar(List<Record> records) {
    out.clear();
    columnar.write(out);
    return finishRecords(Codec.COLUMNAR, records);
  }

  private EncodedBatch finishLayout(Codec codec, byte[] layout) {
    out.intLittleEndian(LayoutChecksum.ofLayout(layout, 0, layout.length));
    return new EncodedBatch(codec, out.toByteArray(), layout.length);
  }

  private EncodedBatch finishRecords(Codec codec, List<Record> records) {
    LayoutChecksum crc = new LayoutChecksum();
    long previous = 0;
    long raw = 0;
    for (Record r : records) {
      byte[] p = r.payload();
      crc.add(r.originMs(), p, 0, p.length);
      raw +=
          Varints.size(Varints.zigzag(r.originMs() - previous)) + Varints.size(p.length) + p.length;
      previous = r.originMs();
    }
    out.intLittleEndian(crc.value());
    return new EncodedBatch(codec, out.toByteArray(), (int) Math.min(Integer.MAX_VALUE, raw));
  }

  private int zstdLevel() {
    return settings.choice() == Choice.ZSTD || settings.choice() == Choice.AUTO
        ? level
        : CodecSettings.DEFAULT_ZSTD_LEVEL;
  }

  /** The level of the session's streams: the configured one (see {@link #setLevel}). */
  private int sessionLevel() {
    return settings.choice() == Choice.ZSTD || settings.choice() == Choice.AUTO
        ? settings.level()
        : CodecSettings.DEFAULT_ZSTD_LEVEL;
  }

  private int dictionaryId() {
    return streamDictionaryId;
  }

  /** This batch's dictionary, else the settings' one, else null. */
  private Dictionary dictionary() {
    return batchDictionary != null ? batchDictionary : settings.dictionary();
  }

  private ColumnarEncoder columnar() {
    if (columnar == null) {
      columnar = new ColumnarEncoder(zstdLevel(), settings.columnarSeries());
    }
    return columnar;
  }

  private TemplateStreamEncoder template() {
    if (template == null) {
      template = new TemplateStreamEncoder();
    }
    return template;
  }

  /**
   * The zstd stream of TEMPLATE_STREAM rows. It has no dictionary: one trained on JSON records does
   * not fit rows of value deltas (measured: it made batches of 100 about 20% larger).
   */
  private StreamCompressor rowStream() {
    if (rowStream == null) {
      rowStream = new StreamCompressor(sessionLevel(), settings.windowLog(), null);
    }
    return rowStream;
  }

  private StreamCompressor stream() {
    if (stream == null) {
      Dictionary d = dictionary();
      streamDictionaryId = d == null ? 0 : d.id();
      stream =
          new StreamCompressor(
              sessionLevel(),
              settings.windowLog(),
              d == null ? null : d.forCompression(sessionLevel()));
    }
    return stream;
  }
}

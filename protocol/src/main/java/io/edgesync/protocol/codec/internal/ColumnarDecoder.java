package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the COLUMNAR format written by {@link ColumnarEncoder} (docs/codecs.md). Every count,
 * length and index read from the payload is checked before it is used, so corrupt input ends in a
 * {@link ProtocolException} naming the part that is wrong. Not thread safe.
 */
public final class ColumnarDecoder implements NativeResource {
  private static final String NAME = Columnar.NAME;
  private final ZstdFrames zstd = new ZstdFrames(1);

  /**
   * Decodes {@code payload[off, off+len)} (without the checksum) into exactly {@code count} records
   * numbered from {@code firstSequence}.
   */
  public List<Record> decode(
      byte[] payload, int off, int len, long firstSequence, int count, long maxDecodedBytes)
      throws ProtocolException {
    ByteSource top = new ByteSource(payload, off, len, NAME, "header");
    int layout = top.readByte();
    ByteSource section;
    long streamLimit = maxDecodedBytes + 32L * count + 65_536;
    if (layout == Columnar.LAYOUT_ONE_FRAME) {
      int sectionLength = top.readCount(streamLimit, "a section length");
      byte[] raw = new byte[sectionLength];
      zstd.decompress(
          payload, top.position(), top.remaining(), raw, 0, sectionLength, null, NAME, "section");
      section = new ByteSource(raw, 0, sectionLength, NAME, "section");
    } else if (layout == Columnar.LAYOUT_STREAMS) {
      section = top;
    } else {
      throw Corrupt.invalid(NAME, "unknown layout " + layout);
    }
    ByteSource[] streams = readStreams(section, streamLimit);
    return new Reader(streams, firstSequence, count, maxDecodedBytes).read();
  }

  private ByteSource[] readStreams(ByteSource section, long streamLimit) throws ProtocolException {
    // Each table entry takes at least two bytes.
    int s = section.readCount(Math.min(section.remaining() / 2, 1_000_000), "a stream count");
    if (s == 0) {
      throw section.corrupt("has no streams");
    }
    int[] raw = new int[s];
    int[] stored = new int[s];
    long total = 0;
    for (int i = 0; i < s; i++) {
      raw[i] = section.readCount(streamLimit, "a stream length");
      stored[i] = section.readCount(raw[i], "a stored stream length (raw " + raw[i] + ")");
      total += raw[i];
      if (total > streamLimit) {
        throw section.corrupt("declares " + total + " bytes of streams, above the limit");
      }
    }
    ByteSource[] out = new ByteSource[s];
    for (int i = 0; i < s; i++) {
      int at = section.take(stored[i], "stream " + i);
      String part = "stream " + i;
      if (stored[i] == raw[i]) {
        out[i] = new ByteSource(section.array(), at, raw[i], NAME, part);
      } else {
        byte[] data = new byte[raw[i]];
        zstd.decompress(section.array(), at, stored[i], data, 0, raw[i], null, NAME, part);
        out[i] = new ByteSource(data, 0, raw[i], NAME, part);
      }
    }
    section.expectEnd();
    return out;
  }

  @Override
  public void close() {
    zstd.close();
  }

  /** One decode: walks the meta stream, pulling the data streams in the order they were written. */
  private static final class Reader {
    private final ByteSource[] streams;
    private final long firstSequence;
    private final int count;
    private final long maxDecodedBytes;
    private int nextStream = 1;
    private final ByteSource meta;

    Reader(ByteSource[] streams, long firstSequence, int count, long maxDecodedBytes) {
      this.streams = streams;
      this.firstSequence = firstSequence;
      this.count = count;
      this.maxDecodedBytes = maxDecodedBytes;
      this.meta = streams[0];
    }

    private ByteSource next(String what) throws ProtocolException {
      if (nextStream >= streams.length) {
        throw Corrupt.invalid(NAME, "the " + what + " stream is missing");
      }
      return streams[nextStream++];
    }

    // Over 80 lines: one pass over the batch's streams in the format's order (docs/codecs.md),
    // whose steps share a dozen locals (counts, flags, templates, origins, raw streams).
    List<Record> read() throws ProtocolException {
      int n = meta.readCount(Integer.MAX_VALUE, "a record count");
      if (n != count) {
        throw Corrupt.invalid(NAME, "holds " + n + " records but the batch has " + count);
      }
      int templateCount = meta.readCount(n, "a template count");
      int rawCount = meta.readCount(n, "a raw record count");
      int flags = meta.readByte();
      if ((flags & ~31) != 0) {
        throw meta.corrupt("has unknown flags " + flags);
      }
      Tmpl[] templates = new Tmpl[templateCount];
      for (int t = 0; t < templateCount; t++) {
        templates[t] = readTemplate(t);
      }
      int[] recordTemplate = new int[n];
      if ((flags & Columnar.FLAG_TEMPLATE_INDEX) != 0) {
        ByteSource idx = next("template index");
        for (int i = 0; i < n; i++) {
          recordTemplate[i] = idx.readCount(templateCount, "a template index");
        }
        idx.expectEnd();
      } else if (templateCount == 1 && rawCount == 0) {
        java.util.Arrays.fill(recordTemplate, 1);
      } else if (!(templateCount == 0 && rawCount == n)) {
        throw meta.corrupt("needs a template index but has none");
      }
      int raws = 0;
      for (int i = 0; i < n; i++) {
        if (recordTemplate[i] == 0) {
          raws++;
        } else {
          templates[recordTemplate[i] - 1].count++;
        }
      }
      if (raws != rawCount) {
        throw Corrupt.invalid(NAME, "template index has " + raws + " raw records, not " + rawCount);
      }
      // Every value becomes at least one byte of some record (an empty string's quotes are in
      // the template), so this bounds the memory of the columns by the decoded size.
      long values = 0;
      for (Tmpl t : templates) {
        values += (long) t.holes * t.count;
      }
      if (values > maxDecodedBytes) {
        throw Corrupt.invalid(
            NAME, "holds " + values + " values, more than " + maxDecodedBytes + " bytes can hold");
      }
      if (((flags & Columnar.FLAG_RAW) != 0) != (rawCount > 0)) {
        throw meta.corrupt("raw flag disagrees with " + rawCount + " raw records");
      }

      boolean series = (flags & Columnar.FLAG_SERIES) != 0;
      if (series) {
        for (int t = 0; t < templateCount; t++) {
          readSeriesSpec(templates[t], t);
        }
      }

      // Origins (the offsets from a column, if so, are resolved once the columns are read).
      int originMode = meta.readByte();
      int originSlot = -1;
      if (originMode == Columnar.ORIGIN_SLOT_MS || originMode == Columnar.ORIGIN_SLOT_S) {
        if (templateCount != 1 || rawCount != 0) {
          throw meta.corrupt("takes origins from a column but has not exactly one template");
        }
        originSlot = meta.readCount(templates[0].holes - 1L, "an origin column");
      } else if (originMode != Columnar.ORIGIN_OWN) {
        throw meta.corrupt("has unknown origin mode " + originMode);
      }
      int originTransform = readTransform();
      long[] origins = new long[n];
      ByteSource originStream = next("origin");
      Transforms.read(originStream, originTransform, origins, n);
      originStream.expectEnd();
      for (Tmpl t : templates) {
        if (t.series > 0) {
          readSeries(t);
        }
      }

      List<Slot> slots = new ArrayList<>();
      int dictEntries = 0;
      int texts = 0;
      for (Tmpl t : templates) {
        t.slots = new Slot[t.holes];
        for (int h = 0; h < t.holes; h++) {
          Slot s = readSlot(t.count, t.seriesSorted);
          t.slots[h] = s;
          slots.add(s);
          dictEntries += s.dictEntries;
          texts += s.texts;
        }
      }
      ByteSource rawLens = null;
      ByteSource rawBytes = null;
      if ((flags & Columnar.FLAG_RAW) != 0) {
        rawLens = next("raw lengths");
        rawBytes = next("raw bytes");
      }
      if (((flags & Columnar.FLAG_DICTIONARY) != 0) != (dictEntries > 0)) {
        throw meta.corrupt("dictionary flag disagrees with " + dictEntries + " entries");
      }
      if (dictEntries > 0) {
        ByteSource lens = next("dictionary lengths");
        ByteSource bytes = next("dictionary bytes");
        for (Slot s : slots) {
          s.resolveStrings(lens, bytes);
        }
        lens.expectEnd();
        bytes.expectEnd();
      }
      if (((flags & Columnar.FLAG_TEXT) != 0) != (texts > 0)) {
        throw meta.corrupt("text flag disagrees with " + texts + " number texts");
      }
      if (texts > 0) {
        ByteSource lens = next("number text lengths");
        ByteSource bytes = next("number text bytes");
        for (Slot s : slots) {
          s.resolveTexts(lens, bytes);
        }
        lens.expectEnd();
        bytes.expectEnd();
      }
      meta.expectEnd();
      if (nextStream != streams.length) {
        throw Corrupt.invalid(
            NAME, "has " + (streams.length - nextStream) + " streams more than it uses");
      }
      if (originSlot >= 0) {
        Slot s = templates[0].slots[originSlot];
        if (!s.integerOnly()) {
          throw meta.corrupt("takes origins from column " + originSlot + ", which is not integers");
        }
        boolean seconds = originMode == Columnar.ORIGIN_SLOT_S;
        int[] pos = templates[0].position;
        for (int i = 0; i < n; i++) {
          long m = s.m[pos == null ? i : pos[i]];
          origins[i] += seconds ? m * 1000 : m;
        }
      }

      // Put the records back together.
      List<Record> out = new ArrayList<>(n);
      ByteSink buf = new ByteSink(256);
      int[] cursor = new int[templateCount];
      long decoded = 0;
      int raw = 0;
      for (int i = 0; i < n; i++) {
        byte[] payload;
        int t = recordTemplate[i];
        if (t == 0) {
          int length = rawLens.readCount(ProtocolLimits.MAX_RECORD_BYTES, "a raw record length");
          int at = rawBytes.take(length, "raw record " + raw++);
          payload = java.util.Arrays.copyOfRange(rawBytes.array(), at, at + length);
        } else {
          Tmpl tm = templates[t - 1];
          buf.clear();
          int a = cursor[t - 1]++;
          tm.write(tm.position == null ? a : tm.position[a], buf);
          if (buf.size() > ProtocolLimits.MAX_RECORD_BYTES) {
            throw Corrupt.invalid(
                NAME,
                "record "
                    + i
                    + " is "
                    + buf.size()
                    + " bytes, above the limit of "
                    + ProtocolLimits.MAX_RECORD_BYTES);
          }
          payload = buf.toByteArray();
        }
        decoded += payload.length;
        if (decoded > maxDecodedBytes) {
          throw Corrupt.invalid(
              NAME, "decodes to more than the limit of " + maxDecodedBytes + " bytes");
        }
        out.add(new Record(firstSequence + i, origins[i], payload));
      }
      if (rawLens != null) {
        rawLens.expectEnd();
        rawBytes.expectEnd();
      }
      return out;
    }

    /** The template's series count (0 = arrival order, else at least 2) and its transform. */
    private void readSeriesSpec(Tmpl t, int index) throws ProtocolException {
      t.series = meta.readCount(t.count, "a series count of template " + index);
      if (t.series == 1) {
        throw meta.corrupt("has a single series in template " + index);
      }
      if (t.series > 0) {
        t.seriesTransform = readTransform();
      }
    }

    /**
     * The template's series numbers in arrival order (numbered by first appearance, every one of
     * the template's series used), and from them where each record is in series order.
     */
    private void readSeries(Tmpl t) throws ProtocolException {
      ByteSource in = next("series");
      int c = t.count;
      long[] ids = new long[c];
      Transforms.read(in, t.seriesTransform, ids, c);
      in.expectEnd();
      int[] starts = new int[t.series + 1];
      long seen = 0;
      for (int j = 0; j < c; j++) {
        long id = ids[j];
        if (id < 0 || id > seen || id >= t.series) {
          throw in.corrupt(
              "has series "
                  + id
                  + " at record "
                  + j
                  + " (series are numbered by first appearance, "
                  + t.series
                  + " in all)");
        }
        if (id == seen) {
          seen++;
        }
        starts[(int) id + 1]++;
      }
      if (seen != t.series) {
        throw in.corrupt("uses " + seen + " of " + t.series + " series");
      }
      for (int s = 0; s < t.series; s++) {
        starts[s + 1] += starts[s];
      }
      t.position = new int[c];
      t.seriesSorted = new int[c];
      for (int j = 0; j < c; j++) {
        int id = (int) ids[j];
        int at = starts[id]++;
        t.position[j] = at;
        t.seriesSorted[at] = id;
      }
    }

    private int readTransform() throws ProtocolException {
      int tr = meta.readByte();
      if (tr >= Transforms.COUNT) {
        throw meta.corrupt("has unknown transform " + tr);
      }
      return tr;
    }

    private Tmpl readTemplate(int index) throws ProtocolException {
      Tmpl t = new Tmpl();
      t.holes = meta.readCount(JsonScanner.MAX_HOLES, "a hole count in template " + index);
      t.segOff = new int[t.holes + 1];
      t.segLen = new int[t.holes + 1];
      t.bytes = meta.array();
      for (int s = 0; s <= t.holes; s++) {
        t.segLen[s] = meta.readCount(JsonScanner.MAX_SKELETON_BYTES, "a segment length");
        t.segOff[s] = meta.take(t.segLen[s], "a segment of template " + index);
      }
      return t;
    }

    /** One column: its kinds, then its string ids and its decimals if it has any. */
    private Slot readSlot(int count, int[] seriesSorted) throws ProtocolException {
      Slot s = new Slot(count);
      readKinds(s, count);
      int strings = 0;
      int decimals = 0;
      for (int j = 0; j < count; j++) {
        if (s.kinds[j] == Kinds.STRING) {
          strings++;
        } else if (s.kinds[j] == Kinds.DECIMAL) {
          decimals++;
        } else if (s.kinds[j] == Kinds.NUMTEXT) {
          s.texts++;
        }
      }
      if (strings > 0) {
        readStringIds(s, count, strings);
      }
      if (decimals > 0) {
        readDecimals(s, count, decimals, seriesSorted);
      }
      if (s.texts > 0) {
        s.textOff = new int[count];
        s.textLen = new int[count];
      }
      return s;
    }

    /** The column's kinds: one for all its values, or a stream of one per value. */
    private void readKinds(Slot s, int count) throws ProtocolException {
      int spec = meta.readByte();
      if (spec == Columnar.KINDS_STREAM) {
        ByteSource kinds = next("kinds");
        for (int j = 0; j < count; j++) {
          int k = kinds.readByte();
          if (k >= Kinds.COUNT) {
            throw kinds.corrupt("has unknown kind " + k);
          }
          s.kinds[j] = (byte) k;
        }
        kinds.expectEnd();
      } else if (spec < Kinds.COUNT) {
        java.util.Arrays.fill(s.kinds, (byte) spec);
      } else {
        throw meta.corrupt("has unknown kind " + spec);
      }
    }

    /** The dictionary ids of the column's {@code strings} string values. */
    private void readStringIds(Slot s, int count, int strings) throws ProtocolException {
      int idsMode = meta.readByte();
      s.dictEntries = meta.readCount(strings, "a dictionary size");
      if (s.dictEntries == 0) {
        throw meta.corrupt("has strings but an empty dictionary");
      }
      s.ids = new int[count];
      if (idsMode == Columnar.IDS_CONSTANT) {
        if (s.dictEntries != 1) {
          throw meta.corrupt("has a constant string column with " + s.dictEntries + " entries");
        }
      } else if (idsMode == Columnar.IDS_STREAM) {
        ByteSource ids = next("string ids");
        int entries = 0;
        int previous = -1;
        for (int j = 0; j < count; j++) {
          if (s.kinds[j] != Kinds.STRING) {
            continue;
          }
          long code = ids.readVarint();
          int id;
          if (code == 0) {
            if (previous < 0) {
              throw ids.corrupt("repeats a previous string before the first");
            }
            id = previous;
          } else if (code == 1) {
            id = entries++;
            if (id >= s.dictEntries) {
              throw ids.corrupt("adds more than " + s.dictEntries + " dictionary entries");
            }
          } else if (code - 2 < entries) {
            id = (int) (code - 2);
          } else {
            throw ids.corrupt("refers to string " + Long.toUnsignedString(code - 2));
          }
          s.ids[j] = id;
          previous = id;
        }
        ids.expectEnd();
        if (entries != s.dictEntries) {
          throw ids.corrupt("uses " + entries + " of " + s.dictEntries + " dictionary entries");
        }
      } else {
        throw meta.corrupt("has unknown string id mode " + idsMode);
      }
    }

    /** The mantissas and scales of the column's {@code decimals} decimal values. */
    /**
     * A series template's decimals: a heads stream (the first decimal of each series), then the
     * body, whose transform starts over at each head (SeriesColumns).
     */
    private void readSeriesMantissas(
        Slot s,
        int count,
        int decimals,
        int[] seriesSorted,
        int transform,
        int headTransform,
        long[] values)
        throws ProtocolException {
      boolean[] head = new boolean[decimals];
      int d = 0;
      int last = -1;
      for (int j = 0; j < count; j++) {
        if (s.kinds[j] == Kinds.DECIMAL) {
          head[d++] = seriesSorted[j] != last;
          last = seriesSorted[j];
        }
      }
      int heads = SeriesColumns.heads(head, decimals);
      long[] headValues = new long[heads];
      ByteSource headStream = next("series heads");
      Transforms.read(headStream, headTransform, headValues, heads);
      headStream.expectEnd();
      ByteSource body = next("mantissa");
      SeriesColumns.readBody(body, transform, values, decimals, head, headValues);
      body.expectEnd();
    }

    private void readDecimals(Slot s, int count, int decimals, int[] seriesSorted)
        throws ProtocolException {
      int transform = readTransform();
      int headTransform = seriesSorted == null ? -1 : readTransform();
      int maxScale = meta.readByte();
      if (maxScale > Decimals.MAX_SCALE) {
        throw meta.corrupt("has scale " + maxScale + ", above " + Decimals.MAX_SCALE);
      }
      int scaleMode = meta.readByte();
      int minScale = maxScale;
      if (scaleMode == Columnar.SCALE_SHORTEST) {
        minScale = meta.readByte();
        if (minScale > maxScale) {
          throw meta.corrupt("has minimum scale " + minScale + " above " + maxScale);
        }
      } else if (scaleMode != Columnar.SCALE_FIXED && scaleMode != Columnar.SCALE_EXPLICIT) {
        throw meta.corrupt("has unknown scale mode " + scaleMode);
      }
      long[] values = new long[decimals];
      if (seriesSorted == null) {
        ByteSource mantissas = next("mantissa");
        Transforms.read(mantissas, transform, values, decimals);
        mantissas.expectEnd();
      } else {
        readSeriesMantissas(s, count, decimals, seriesSorted, transform, headTransform, values);
      }
      ByteSource scales = scaleMode == Columnar.SCALE_EXPLICIT ? next("scale") : null;
      s.m = new long[count];
      s.sc = new byte[count];
      int d = 0;
      for (int j = 0; j < count; j++) {
        if (s.kinds[j] != Kinds.DECIMAL) {
          continue;
        }
        long norm = values[d++];
        int scale;
        if (scaleMode == Columnar.SCALE_FIXED) {
          scale = maxScale;
        } else if (scaleMode == Columnar.SCALE_SHORTEST) {
          scale = maxScale - Decimals.trailingZeros(norm, maxScale - minScale);
        } else {
          scale = scales.readByte();
          if (scale > maxScale) {
            throw scales.corrupt("has scale " + scale + " above the column's " + maxScale);
          }
        }
        int k = maxScale - scale;
        long m = norm / Decimals.pow10(k);
        if (m * Decimals.pow10(k) != norm) {
          throw Corrupt.invalid(NAME, "mantissa " + norm + " does not have scale " + scale);
        }
        s.m[j] = m;
        s.sc[j] = (byte) scale;
      }
      if (scales != null) {
        scales.expectEnd();
      }
    }
  }

  private static final class Tmpl {
    int holes;
    int series;
    int seriesTransform;

    /** With series: arrival position within the template → position in series order. */
    int[] position;

    /** With series: the series of each position in series order. */
    int[] seriesSorted;

    int count;
    byte[] bytes;
    int[] segOff;
    int[] segLen;
    Slot[] slots;

    void write(int j, ByteSink out) {
      for (int h = 0; h < holes; h++) {
        out.write(bytes, segOff[h], segLen[h]);
        slots[h].write(j, out);
      }
      out.write(bytes, segOff[holes], segLen[holes]);
    }
  }

  private static final class Slot {
    final byte[] kinds;
    int dictEntries;
    int texts;
    int[] ids;
    long[] m;
    byte[] sc;
    byte[] strBytes;
    int[] dictOff;
    int[] dictLen;
    byte[] textBytes;
    int[] textOff;
    int[] textLen;

    Slot(int count) {
      kinds = new byte[count];
    }

    void resolveStrings(ByteSource lens, ByteSource bytes) throws ProtocolException {
      if (dictEntries == 0) {
        return;
      }
      dictOff = new int[dictEntries];
      dictLen = new int[dictEntries];
      strBytes = bytes.array();
      for (int e = 0; e < dictEntries; e++) {
        dictLen[e] = lens.readCount(ProtocolLimits.MAX_RECORD_BYTES, "a string length");
        dictOff[e] = bytes.take(dictLen[e], "a string");
      }
    }

    void resolveTexts(ByteSource lens, ByteSource bytes) throws ProtocolException {
      if (texts == 0) {
        return;
      }
      textBytes = bytes.array();
      for (int j = 0; j < kinds.length; j++) {
        if (kinds[j] == Kinds.NUMTEXT) {
          textLen[j] = lens.readCount(ProtocolLimits.MAX_RECORD_BYTES, "a number text length");
          textOff[j] = bytes.take(textLen[j], "a number text");
        }
      }
    }

    boolean integerOnly() {
      for (int j = 0; j < kinds.length; j++) {
        if (kinds[j] != Kinds.DECIMAL || sc[j] != 0) {
          return false;
        }
      }
      return true;
    }

    void write(int j, ByteSink out) {
      switch (kinds[j]) {
        case Kinds.STRING -> {
          int id = ids[j];
          out.write(strBytes, dictOff[id], dictLen[id]);
        }
        case Kinds.DECIMAL -> Decimals.format(m[j], sc[j], out);
        case Kinds.NUMTEXT -> out.write(textBytes, textOff[j], textLen[j]);
        case Kinds.TRUE -> out.write(Kinds.TRUE_BYTES);
        case Kinds.FALSE -> out.write(Kinds.FALSE_BYTES);
        default -> out.write(Kinds.NULL_BYTES);
      }
    }
  }
}

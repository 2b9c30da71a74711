package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.Record;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;

/**
 * Encodes a batch in the COLUMNAR format (docs/codecs.md): records are split by {@link JsonScanner}
 * into templates and values, the values of each template hole form a column, and each column is
 * written in the cheapest of a few encodings (dictionary ids for strings, delta/delta-of-delta/XOR
 * varints for numbers), then zstd-compressed stream by stream. Records that are not JSON go to a
 * raw side column. Stateless between batches; reuses its buffers, so it is not thread safe.
 */
public final class ColumnarEncoder implements NativeResource {
  private final JsonScanner scanner = new JsonScanner();
  private final ZstdFrames zstd;
  private final HashMap<Key, Template> byKey = new HashMap<>();
  private final Key probe = new Key();
  private final ArrayList<Template> templates = new ArrayList<>();
  private final ArrayList<Template> spare = new ArrayList<>();
  private final ArrayList<ByteSink> streams = new ArrayList<>();
  private final ArrayList<ByteSink> spareStreams = new ArrayList<>();
  private final HashMap<Key, Integer> dictionary = new HashMap<>();
  private final ByteSink section = new ByteSink(1024);
  private final ByteSink packed = new ByteSink(1024);
  private final ByteSink oneFrame = new ByteSink(1024);
  private int[] recordTemplate = new int[64];
  private int[] rawRecords = new int[16];
  private int rawCount;
  private long[] origin = new long[64];
  private long[] scratch = new long[64];
  private List<Record> records;
  private final SeriesDetector detector;
  private final boolean[] headScratch0 = new boolean[0];
  private boolean[] head = headScratch0;

  /** An encoder that writes the format of COLUMNAR without series (every peer decodes it). */
  public ColumnarEncoder(int zstdLevel) {
    this(zstdLevel, false);
  }

  /**
   * @param series code the records of each sensor (key columns, {@link SeriesDetector}) against
   *     each other: only for a peer that accepted {@code columnar:series}
   */
  public ColumnarEncoder(int zstdLevel, boolean series) {
    zstd = new ZstdFrames(zstdLevel);
    detector = series ? new SeriesDetector() : null;
  }

  /** Records of the last {@link #analyze} that did not parse into a template. */
  public int rawCount() {
    return rawCount;
  }

  /** Templates the last {@link #write} coded in series order (0 without series). */
  public int seriesTemplates() {
    int n = 0;
    for (Template t : templates) {
      if (t.series > 0) {
        n++;
      }
    }
    return n;
  }

  /** Distinct templates of the last {@link #analyze}. */
  public int templateCount() {
    return templates.size();
  }

  /** Scans every record of the batch; call before {@link #write}. */
  public void analyze(List<Record> batch) {
    this.records = batch;
    for (Template t : templates) {
      spare.add(t);
    }
    templates.clear();
    byKey.clear();
    rawCount = 0;
    int n = batch.size();
    if (recordTemplate.length < n) {
      recordTemplate = new int[n];
    }
    Template last = null;
    for (int i = 0; i < n; i++) {
      byte[] p = batch.get(i).payload();
      if (!scanner.scan(p)) {
        addRaw(i);
        continue;
      }
      Template t;
      if (last != null && last.matches(scanner)) {
        t = last;
      } else {
        probe.set(scanner.key, 0, scanner.keyLength);
        t = byKey.get(probe);
        if (t == null) {
          if (templates.size() >= Columnar.MAX_TEMPLATES) {
            addRaw(i);
            continue;
          }
          t = spare.isEmpty() ? new Template() : spare.remove(spare.size() - 1);
          t.define(scanner, templates.size());
          templates.add(t);
          byKey.put(new Key().copyOf(t.key, t.keyLength), t);
        }
      }
      last = t;
      t.add(scanner, i);
      recordTemplate[i] = t.index + 1;
    }
  }

  private void addRaw(int i) {
    if (rawCount == rawRecords.length) {
      rawRecords = Arrays.copyOf(rawRecords, rawCount * 2);
    }
    rawRecords[rawCount++] = i;
    recordTemplate[i] = 0;
  }

  /** Appends the COLUMNAR payload of the analyzed batch (without the checksum) to {@code out}. */
  public void write(ByteSink out) {
    List<Record> batch = records;
    int n = batch.size();
    for (ByteSink s : streams) {
      spareStreams.add(s);
    }
    streams.clear();
    dictionary.clear();

    ByteSink meta = stream();
    int templateCount = templates.size();
    boolean indexStream = !(rawCount == 0 && templateCount == 1) && !(templateCount == 0);
    boolean anySeries = false;
    for (Template t : templates) {
      for (int h = 0; h < t.holes; h++) {
        normalize(t.slots[h], t.count);
      }
      t.series = 0;
      if (detector != null) {
        detector.detect(t, batch);
        anySeries |= t.series > 0;
      }
    }
    meta.varint(n);
    meta.varint(templateCount);
    meta.varint(rawCount);
    int flagsAt = meta.size();
    meta.write(0); // flags, patched below
    for (Template t : templates) {
      meta.varint(t.holes);
      int at = 0;
      for (int s = 0; s <= t.holes; s++) {
        meta.varint(t.segLength[s]);
        meta.write(t.key, at, t.segLength[s]);
        at += t.segLength[s];
      }
    }
    if (indexStream) {
      ByteSink idx = stream();
      for (int i = 0; i < n; i++) {
        idx.varint(recordTemplate[i]);
      }
    }
    if (anySeries) {
      for (Template t : templates) {
        meta.varint(t.series);
        if (t.series > 0) {
          ensureScratch(t.count);
          for (int j = 0; j < t.count; j++) {
            scratch[j] = t.seriesOf[j];
          }
          t.seriesTransform = choose(scratch, t.count);
          meta.write(t.seriesTransform);
        }
      }
    }

    // Origin times: own values, or the offset from a timestamp-like column of the only template
    // (in arrival order: before the series order below).
    long[] o = origins(n);
    ByteSink originStream = stream();
    writeOrigin(meta, originStream, o, n);
    for (Template t : templates) {
      if (t.series > 0) {
        ensureScratch(t.count);
        for (int j = 0; j < t.count; j++) {
          scratch[j] = t.seriesOf[j];
        }
        Transforms.write(scratch, t.count, t.seriesTransform, stream());
        t.toSeriesOrder();
      }
    }

    ByteSink dictLens = new ByteSink(64);
    ByteSink dictBytes = new ByteSink(256);
    ByteSink textLens = new ByteSink(16);
    ByteSink textBytes = new ByteSink(64);
    for (Template t : templates) {
      for (int h = 0; h < t.holes; h++) {
        writeSlot(t, t.slots[h], meta, dictLens, dictBytes, textLens, textBytes);
      }
    }
    int flags = indexStream ? Columnar.FLAG_TEMPLATE_INDEX : 0;
    if (anySeries) {
      flags |= Columnar.FLAG_SERIES;
    }
    if (rawCount > 0) {
      flags |= Columnar.FLAG_RAW;
      ByteSink lens = stream();
      ByteSink bytes = stream();
      for (int r = 0; r < rawCount; r++) {
        byte[] p = batch.get(rawRecords[r]).payload();
        lens.varint(p.length);
        bytes.write(p);
      }
    }
    if (dictLens.size() > 0) {
      flags |= Columnar.FLAG_DICTIONARY;
      stream().write(dictLens);
      stream().write(dictBytes);
    }
    if (textLens.size() > 0) {
      flags |= Columnar.FLAG_TEXT;
      stream().write(textLens);
      stream().write(textBytes);
    }
    meta.array()[flagsAt] = (byte) flags;
    pack(out);
  }

  private long[] origins(int n) {
    if (origin.length < n) {
      origin = new long[n];
    }
    for (int i = 0; i < n; i++) {
      origin[i] = records.get(i).originMs();
    }
    return origin;
  }

  private void writeOrigin(ByteSink meta, ByteSink out, long[] o, int n) {
    int bestMode = Columnar.ORIGIN_OWN;
    int bestSlot = 0;
    int bestTransform = choose(o, n);
    long bestSize = sizeOf(o, n, bestTransform);
    if (templates.size() == 1 && rawCount == 0) {
      Template t = templates.get(0);
      ensureScratch(n);
      int tried = 0;
      for (int h = 0; h < t.holes && tried < 4; h++) {
        Slot s = t.slots[h];
        if (!s.integerOnly(t.count)) {
          continue;
        }
        tried++;
        for (int mode = Columnar.ORIGIN_SLOT_MS; mode <= Columnar.ORIGIN_SLOT_S; mode++) {
          for (int i = 0; i < n; i++) {
            long base = mode == Columnar.ORIGIN_SLOT_MS ? s.mant[i] : s.mant[i] * 1000;
            scratch[i] = o[i] - base;
          }
          int tr = choose(scratch, n);
          long size = sizeOf(scratch, n, tr);
          if (size < bestSize) {
            bestSize = size;
            bestMode = mode;
            bestSlot = h;
            bestTransform = tr;
          }
        }
      }
    }
    meta.write(bestMode);
    if (bestMode != Columnar.ORIGIN_OWN) {
      meta.varint(bestSlot);
      Slot s = templates.get(0).slots[bestSlot];
      for (int i = 0; i < n; i++) {
        scratch[i] = o[i] - (bestMode == Columnar.ORIGIN_SLOT_MS ? s.mant[i] : s.mant[i] * 1000);
      }
      o = scratch;
    }
    meta.write(bestTransform);
    Transforms.write(o, n, bestTransform, out);
  }

  /**
   * The transform for a column: by varint bytes (the format every decoder reads, unchanged), or by
   * bits in the series-aware encoder, which entropy-codes small residuals better.
   */
  private int choose(long[] v, int n) {
    return detector == null ? Transforms.choose(v, n) : Transforms.chooseByBits(v, n);
  }

  /** Cost of a column in the chosen measure: varint bytes, or bits for the series encoder. */
  private long sizeOf(long[] v, int n, int transform) {
    return costOf(v, n, transform, detector != null);
  }

  private static long costOf(long[] v, int n, int transform, boolean bits) {
    long prev = 0;
    long prevDelta = 0;
    long size = 0;
    for (int i = 0; i < n; i++) {
      long x = v[i];
      long d = x - prev;
      long w =
          switch (transform) {
            case Transforms.PLAIN -> Varints.zigzag(x);
            case Transforms.DELTA -> Varints.zigzag(d);
            case Transforms.DOD -> Varints.zigzag(d - prevDelta);
            default -> x ^ prev;
          };
      size += Transforms.cost(w, bits);
      prev = x;
      prevDelta = d;
    }
    return size;
  }

  private void writeSlot(
      Template t,
      Slot s,
      ByteSink meta,
      ByteSink dictLens,
      ByteSink dictBytes,
      ByteSink textLens,
      ByteSink textBytes) {
    int count = t.count;
    int maxScale = s.maxScale;
    int decimals = s.decimals;
    int strings = 0;
    int texts = 0;
    byte first = s.kinds[0];
    boolean constantKind = true;
    for (int j = 0; j < count; j++) {
      byte k = s.kinds[j];
      if (k != first) {
        constantKind = false;
      }
      if (k == Kinds.STRING) {
        strings++;
      } else if (k == Kinds.NUMTEXT) {
        texts++;
      }
    }
    if (constantKind) {
      meta.write(first);
    } else {
      meta.write(Columnar.KINDS_STREAM);
      stream().write(s.kinds, 0, count);
    }
    if (strings > 0) {
      writeStrings(t, s, strings, meta, dictLens, dictBytes);
    }
    if (decimals > 0) {
      writeDecimals(t, s, count, decimals, maxScale, meta);
    }
    if (texts > 0) {
      for (int j = 0; j < count; j++) {
        if (s.kinds[j] == Kinds.NUMTEXT) {
          byte[] p = records.get(t.records[j]).payload();
          textLens.varint(s.end[j] - s.start[j]);
          textBytes.write(p, s.start[j], s.end[j] - s.start[j]);
        }
      }
    }
  }

  /**
   * Brings every decimal of the column to the column's largest scale ({@code s.norm}); those that
   * overflow a long there become number text.
   */
  private static void normalize(Slot s, int count) {
    int maxScale = -1;
    for (int j = 0; j < count; j++) {
      if (s.kinds[j] == Kinds.DECIMAL && s.scale[j] > maxScale) {
        maxScale = s.scale[j];
      }
    }
    int decimals = 0;
    if (maxScale >= 0) {
      for (int j = 0; j < count; j++) {
        if (s.kinds[j] == Kinds.DECIMAL) {
          int k = maxScale - s.scale[j];
          if (Decimals.fits(s.mant[j], k)) {
            s.norm[j] = s.mant[j] * Decimals.pow10(k);
            decimals++;
          } else {
            s.kinds[j] = Kinds.NUMTEXT;
          }
        }
      }
    }
    s.maxScale = maxScale;
    s.decimals = decimals;
  }

  private void writeStrings(
      Template t, Slot s, int strings, ByteSink meta, ByteSink dictLens, ByteSink dictBytes) {
    dictionary.clear();
    ensureScratch(strings);
    int count = t.count;
    int n = 0;
    int entries = 0;
    byte[] prevArr = null;
    int prevStart = 0;
    int prevLen = -1;
    for (int j = 0; j < count; j++) {
      if (s.kinds[j] != Kinds.STRING) {
        continue;
      }
      byte[] p = records.get(t.records[j]).payload();
      int st = s.start[j];
      int len = s.end[j] - st;
      if (len == prevLen && Arrays.equals(p, st, st + len, prevArr, prevStart, prevStart + len)) {
        scratch[n++] = 0; // same as the previous value
        continue;
      }
      probe.set(p, st, len);
      Integer id = dictionary.get(probe);
      if (id == null) {
        id = entries++;
        dictionary.put(new Key().copyOf(p, st, len), id);
        dictLens.varint(len);
        dictBytes.write(p, st, len);
        scratch[n++] = 1; // new entry, next id
      } else {
        scratch[n++] = id + 2L;
      }
      prevArr = p;
      prevStart = st;
      prevLen = len;
    }
    boolean constant = entries == 1;
    meta.write(constant ? Columnar.IDS_CONSTANT : Columnar.IDS_STREAM);
    meta.varint(entries);
    if (!constant) {
      ByteSink ids = stream();
      for (int i = 0; i < n; i++) {
        ids.varint(scratch[i]);
      }
    }
  }

  private void writeDecimals(
      Template t, Slot s, int count, int decimals, int maxScale, ByteSink meta) {
    ensureScratch(decimals);
    if (t.series > 0 && head.length < decimals) {
      head = new boolean[Math.max(decimals, head.length * 2)];
    }
    int minScale = Decimals.MAX_SCALE;
    boolean fixed = true;
    int n = 0;
    int lastSeries = -1;
    for (int j = 0; j < count; j++) {
      if (s.kinds[j] == Kinds.DECIMAL) {
        if (t.series > 0) {
          head[n] = t.seriesOf[j] != lastSeries;
          lastSeries = t.seriesOf[j];
        }
        scratch[n++] = s.norm[j];
        minScale = Math.min(minScale, s.scale[j]);
        fixed &= s.scale[j] == maxScale;
      }
    }
    int scaleMode;
    if (fixed) {
      scaleMode = Columnar.SCALE_FIXED;
    } else {
      boolean shortest = true;
      for (int j = 0; j < count && shortest; j++) {
        if (s.kinds[j] == Kinds.DECIMAL) {
          int predicted = maxScale - Decimals.trailingZeros(s.norm[j], maxScale - minScale);
          shortest = predicted == s.scale[j];
        }
      }
      scaleMode = shortest ? Columnar.SCALE_SHORTEST : Columnar.SCALE_EXPLICIT;
    }
    if (t.series > 0) {
      writeSeriesDecimals(n, maxScale, scaleMode, minScale, meta);
    } else {
      int transform = choose(scratch, n);
      meta.write(transform);
      meta.write(maxScale);
      meta.write(scaleMode);
      if (scaleMode == Columnar.SCALE_SHORTEST) {
        meta.write(minScale);
      }
      Transforms.write(scratch, n, transform, stream());
    }
    if (scaleMode == Columnar.SCALE_EXPLICIT) {
      ByteSink scales = stream();
      for (int j = 0; j < count; j++) {
        if (s.kinds[j] == Kinds.DECIMAL) {
          scales.write(s.scale[j]);
        }
      }
    }
  }

  /**
   * A decimal column of a series template: body transform, heads transform, then the spec as
   * without series; a heads stream (the first value of each series), then the body stream.
   */
  private void writeSeriesDecimals(
      int n, int maxScale, int scaleMode, int minScale, ByteSink meta) {
    int heads = SeriesColumns.heads(head, n);
    long[] headValues = new long[heads];
    int h = 0;
    for (int i = 0; i < n; i++) {
      if (head[i]) {
        headValues[h++] = scratch[i];
      }
    }
    int transform = SeriesColumns.chooseBody(scratch, n, head);
    int headTransform = Transforms.chooseByBits(headValues, heads);
    meta.write(transform);
    meta.write(headTransform);
    meta.write(maxScale);
    meta.write(scaleMode);
    if (scaleMode == Columnar.SCALE_SHORTEST) {
      meta.write(minScale);
    }
    Transforms.write(headValues, heads, headTransform, stream());
    SeriesColumns.writeBody(scratch, n, head, transform, stream());
  }

  /** Stream table + streams, each zstd-compressed when that is smaller; or all in one frame. */
  private void pack(ByteSink out) {
    section.clear();
    packed.clear();
    int total = 0;
    section.varint(streams.size());
    for (ByteSink s : streams) {
      total += s.size();
    }
    // Layout 0: every stream on its own.
    ByteSink table = new ByteSink(4 + streams.size() * 6);
    table.varint(streams.size());
    for (ByteSink s : streams) {
      int raw = s.size();
      int before = packed.size();
      int stored = raw;
      if (raw >= Columnar.MIN_COMPRESS_BYTES) {
        int c = zstd.compress(s.array(), 0, raw, packed, null);
        if (c < raw) {
          stored = c;
        } else {
          packed.clear();
          packed.advance(before);
        }
      }
      if (stored == raw) {
        packed.write(s.array(), 0, raw);
      }
      table.varint(raw);
      table.varint(stored);
    }
    int separateSize = 1 + table.size() + packed.size();
    if (total <= Columnar.ONE_FRAME_TRY_BYTES) {
      // Layout 1: the raw stream section in one frame.
      for (ByteSink s : streams) {
        section.varint(s.size());
        section.varint(s.size());
      }
      for (ByteSink s : streams) {
        section.write(s);
      }
      oneFrame.clear();
      int c = zstd.compress(section.array(), 0, section.size(), oneFrame, null);
      int oneSize = 1 + Varints.size(section.size()) + c;
      if (oneSize < separateSize) {
        out.write(Columnar.LAYOUT_ONE_FRAME);
        out.varint(section.size());
        out.write(oneFrame);
        return;
      }
    }
    out.write(Columnar.LAYOUT_STREAMS);
    out.write(table);
    out.write(packed);
  }

  private ByteSink stream() {
    ByteSink s = spareStreams.isEmpty() ? new ByteSink(256) : spareStreams.remove(0);
    s.clear();
    streams.add(s);
    return s;
  }

  private void ensureScratch(int n) {
    if (scratch.length < n) {
      scratch = new long[Math.max(n, scratch.length * 2)];
    }
  }

  @Override
  public void close() {
    zstd.close();
  }

  /** A byte range used as a hash key; {@link #set} makes a reusable probe. */
  static final class Key {
    byte[] a;
    int off;
    int len;
    int hash;

    Key set(byte[] a, int off, int len) {
      this.a = a;
      this.off = off;
      this.len = len;
      int h = 1;
      for (int i = off, e = off + len; i < e; i++) {
        h = 31 * h + a[i];
      }
      this.hash = h;
      return this;
    }

    Key copyOf(byte[] src, int off, int len) {
      return set(Arrays.copyOfRange(src, off, off + len), 0, len);
    }

    Key copyOf(byte[] src, int len) {
      return copyOf(src, 0, len);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k
          && k.len == len
          && k.hash == hash
          && Arrays.equals(a, off, off + len, k.a, k.off, k.off + len);
    }
  }

  /** One distinct record shape of the batch and the values of its records, hole by hole. */
  static final class Template {
    byte[] key = new byte[64];
    int keyLength;
    int holes;
    int[] segLength = new int[8];
    int index;
    int count;
    int[] records = new int[64];
    Slot[] slots = new Slot[0];

    /** Series of this batch (0 = none: arrival order); see {@link SeriesDetector}. */
    int series;

    /** With series: each record's series number (by first appearance), in the current order. */
    int[] seriesOf;

    int seriesTransform;

    private int[] order = new int[64];
    private int[] starts = new int[64];

    /**
     * Reorders the records (and their values) stably by series: series 0's records first, in
     * arrival order, then series 1's, ... The decoder restores arrival order from the series
     * numbers.
     */
    void toSeriesOrder() {
      int c = count;
      if (order.length < c) {
        order = new int[Math.max(c, order.length * 2)];
      }
      if (starts.length < series + 1) {
        starts = new int[Math.max(series + 1, starts.length * 2)];
      }
      Arrays.fill(starts, 0, series + 1, 0);
      for (int j = 0; j < c; j++) {
        starts[seriesOf[j] + 1]++;
      }
      for (int s = 0; s < series; s++) {
        starts[s + 1] += starts[s];
      }
      for (int j = 0; j < c; j++) {
        order[starts[seriesOf[j]]++] = j;
      }
      records = permute(records, order, c);
      seriesOf = permute(seriesOf, order, c);
      for (int h = 0; h < holes; h++) {
        slots[h].permute(order, c);
      }
    }

    private static int[] permute(int[] a, int[] order, int c) {
      int[] out = new int[a.length];
      for (int j = 0; j < c; j++) {
        out[j] = a[order[j]];
      }
      return out;
    }

    void define(JsonScanner sc, int index) {
      this.index = index;
      this.count = 0;
      keyLength = sc.keyLength;
      if (key.length < keyLength) {
        key = new byte[keyLength];
      }
      System.arraycopy(sc.key, 0, key, 0, keyLength);
      holes = sc.holes;
      if (segLength.length < holes + 1) {
        segLength = new int[holes + 1];
      }
      for (int i = 0; i <= holes; i++) {
        segLength[i] = sc.segmentLength(i);
      }
      if (slots.length < holes) {
        Slot[] grown = Arrays.copyOf(slots, holes);
        for (int i = slots.length; i < holes; i++) {
          grown[i] = new Slot();
        }
        slots = grown;
      }
    }

    boolean matches(JsonScanner sc) {
      return sc.keyLength == keyLength
          && sc.holes == holes
          && Arrays.equals(sc.key, 0, keyLength, key, 0, keyLength);
    }

    void add(JsonScanner sc, int record) {
      int c = count;
      if (c == records.length) {
        records = Arrays.copyOf(records, c * 2);
      }
      records[c] = record;
      for (int h = 0; h < holes; h++) {
        slots[h].add(c, sc, h);
      }
      count = c + 1;
    }
  }

  /** The values of one hole across the records of a template. */
  static final class Slot {
    byte[] kinds = new byte[64];
    long[] mant = new long[64];
    long[] norm = new long[64];
    byte[] scale = new byte[64];
    int[] start = new int[64];
    int[] end = new int[64];
    int maxScale;
    int decimals;

    /** Puts the first {@code c} values in {@code order} (new position j holds old order[j]). */
    void permute(int[] order, int c) {
      byte[] k = new byte[kinds.length];
      long[] m = new long[mant.length];
      long[] no = new long[norm.length];
      byte[] sc = new byte[scale.length];
      int[] st = new int[start.length];
      int[] en = new int[end.length];
      for (int j = 0; j < c; j++) {
        int o = order[j];
        k[j] = kinds[o];
        m[j] = mant[o];
        no[j] = norm[o];
        sc[j] = scale[o];
        st[j] = start[o];
        en[j] = end[o];
      }
      kinds = k;
      mant = m;
      norm = no;
      scale = sc;
      start = st;
      end = en;
    }

    void add(int c, JsonScanner sc, int h) {
      if (c == kinds.length) {
        int n = c * 2;
        kinds = Arrays.copyOf(kinds, n);
        mant = Arrays.copyOf(mant, n);
        norm = Arrays.copyOf(norm, n);
        scale = Arrays.copyOf(scale, n);
        start = Arrays.copyOf(start, n);
        end = Arrays.copyOf(end, n);
      }
      kinds[c] = sc.kind[h];
      mant[c] = sc.mantissa[h];
      scale[c] = sc.scale[h];
      start[c] = sc.start[h];
      end[c] = sc.end[h];
    }

    /** Every value is a decimal without a fractional part (an integer). */
    boolean integerOnly(int count) {
      for (int j = 0; j < count; j++) {
        if (kinds[j] != Kinds.DECIMAL || scale[j] != 0) {
          return false;
        }
      }
      return true;
    }
  }
}

package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.internal.ColumnarEncoder.Key;
import io.edgesync.protocol.codec.internal.ColumnarEncoder.Slot;
import io.edgesync.protocol.codec.internal.ColumnarEncoder.Template;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;

/**
 * Finds the key columns of a template's records (COLUMNAR with series, docs/codecs.md "Series"):
 * the string columns that name the sensor a reading comes from, so that each reading can be coded
 * against the previous reading <em>of the same sensor</em>. The rule, deterministic:
 *
 * <ol>
 *   <li>A template with fewer than {@value #MIN_RECORDS} records has no series.
 *   <li>Candidates are the first {@value #MAX_CANDIDATES} holes (in hole order) that hold only
 *       strings and at least 2 and at most {@code records / }{@value #MIN_ROWS_PER_SERIES} distinct
 *       values: a column with (nearly) one value per record, such as a message id, is not a key.
 *   <li>Each candidate alone, and the tuple of all candidates when there are several, is an option;
 *       a series is one distinct value (tuple), numbered by first appearance.
 *   <li>Each option is scored by an estimate of the bits of the numeric columns in series order
 *       ({@link SeriesColumns#estimateBits}) plus those of the series numbers in arrival order,
 *       against the numeric columns in arrival order plus the option's key columns' string ids. The
 *       option that saves the most bits is taken if it saves more than a quarter of a bit per
 *       record (ties: the earlier option); otherwise the template keeps arrival order.
 * </ol>
 *
 * A status column ("ok", "warn") is a candidate too, and loses: splitting a sensor's readings by
 * status makes its deltas larger, not smaller. Reuses its buffers; not thread safe.
 */
final class SeriesDetector {
  static final int MIN_RECORDS = 32;
  static final int MIN_ROWS_PER_SERIES = 4;
  static final int MAX_CANDIDATES = 4;

  /** An option must save at least one bit per this many records (a quarter bit per record). */
  static final int MIN_GAIN_RECORDS_PER_BIT = 4;

  private final HashMap<Key, Integer> strings = new HashMap<>();
  private final HashMap<Long, Integer> tuples = new HashMap<>();
  private final Key probe = new Key();
  private final int[][] ids = new int[MAX_CANDIDATES + 1][];
  private final int[] distinct = new int[MAX_CANDIDATES + 1];
  private final int[] holes = new int[MAX_CANDIDATES];
  private int[] order = new int[64];
  private int[] starts = new int[64];
  private long[] values = new long[64];
  private boolean[] head = new boolean[64];

  /** Sets {@code t.series} (0 = none) and, with series, {@code t.seriesOf}. */
  void detect(Template t, List<Record> records) {
    t.series = 0;
    int c = t.count;
    if (c < MIN_RECORDS) {
      return;
    }
    int maxSeries = c / MIN_ROWS_PER_SERIES;
    int k = 0;
    for (int h = 0; h < t.holes && k < MAX_CANDIDATES; h++) {
      ids[k] = grow(ids[k], c);
      int d = stringIds(t, t.slots[h], records, maxSeries, ids[k]);
      if (d >= 2) {
        distinct[k] = d;
        holes[k] = h;
        k++;
      }
    }
    if (k == 0) {
      return;
    }
    int options = k;
    if (k >= 2) {
      ids[k] = grow(ids[k], c);
      distinct[k] = tuple(k, c, maxSeries);
      if (distinct[k] >= 2) {
        options++;
      }
    }
    ensure(c);
    long baseline = 0;
    for (int h = 0; h < t.holes; h++) {
      baseline += decimalBits(t, t.slots[h], null);
    }
    long bestGain = 0;
    int best = -1;
    for (int o = 0; o < options; o++) {
      long keyBits = 0;
      for (int i = 0; i < (o < k ? 1 : k); i++) {
        keyBits += idBits(ids[o < k ? o : i], c);
      }
      long cost = seriesBits(ids[o], c) + sortedBits(t, ids[o], distinct[o]);
      long gain = baseline + keyBits - cost;
      if (gain > bestGain && gain > c / MIN_GAIN_RECORDS_PER_BIT) {
        bestGain = gain;
        best = o;
      }
    }
    if (best >= 0) {
      t.series = distinct[best];
      t.seriesOf = grow(t.seriesOf, c);
      System.arraycopy(ids[best], 0, t.seriesOf, 0, c);
    }
  }

  /**
   * Numbers the hole's strings by first appearance into {@code out}; returns how many distinct
   * values, or -1 if a value is not a string or there are more than {@code max}.
   */
  private int stringIds(Template t, Slot s, List<Record> records, int max, int[] out) {
    strings.clear();
    for (int j = 0; j < t.count; j++) {
      if (s.kinds[j] != Kinds.STRING) {
        return -1;
      }
      byte[] p = records.get(t.records[j]).payload();
      probe.set(p, s.start[j], s.end[j] - s.start[j]);
      Integer id = strings.get(probe);
      if (id == null) {
        if (strings.size() >= max) {
          return -1;
        }
        id = strings.size();
        strings.put(new Key().copyOf(p, s.start[j], s.end[j] - s.start[j]), id);
      }
      out[j] = id;
    }
    return strings.size();
  }

  /** The tuple of the first {@code k} candidates' ids, numbered by first appearance. */
  private int tuple(int k, int c, int max) {
    int[] out = ids[k];
    System.arraycopy(ids[0], 0, out, 0, c);
    int d = distinct[0];
    for (int i = 1; i < k; i++) {
      tuples.clear();
      for (int j = 0; j < c; j++) {
        long key = (long) out[j] * distinct[i] + ids[i][j];
        Integer id = tuples.get(key);
        if (id == null) {
          if (tuples.size() >= max) {
            return -1;
          }
          id = tuples.size();
          tuples.put(key, id);
        }
        out[j] = id;
      }
      d = tuples.size();
    }
    return d;
  }

  /** Estimated bits of the template's decimals in series order. */
  private long sortedBits(Template t, int[] ser, int series) {
    int c = t.count;
    Arrays.fill(starts, 0, series + 1, 0);
    for (int j = 0; j < c; j++) {
      starts[ser[j] + 1]++;
    }
    for (int s = 0; s < series; s++) {
      starts[s + 1] += starts[s];
    }
    for (int j = 0; j < c; j++) {
      order[starts[ser[j]]++] = j;
    }
    long bits = 0;
    for (int h = 0; h < t.holes; h++) {
      bits += decimalBits(t, t.slots[h], ser);
    }
    return bits;
  }

  /** The hole's decimals in arrival order ({@code ser} null) or in {@link #order}. */
  private long decimalBits(Template t, Slot s, int[] ser) {
    if (s.decimals == 0) {
      return 0;
    }
    int n = 0;
    int last = -1;
    for (int j = 0; j < t.count; j++) {
      int a = ser == null ? j : order[j];
      if (s.kinds[a] == Kinds.DECIMAL) {
        values[n] = s.norm[a];
        head[n] = ser != null && ser[a] != last;
        last = ser == null ? -1 : ser[a];
        n++;
      }
    }
    return SeriesColumns.estimateBits(values, n, ser == null ? null : head);
  }

  /** Estimated bits of the series numbers in arrival order: the better of PLAIN and DELTA. */
  private static long seriesBits(int[] ser, int c) {
    long plain = 0;
    long delta = 0;
    long prev = 0;
    for (int j = 0; j < c; j++) {
      plain += SeriesColumns.bits(ser[j]);
      delta += SeriesColumns.bits(Varints.zigzag(ser[j] - prev));
      prev = ser[j];
    }
    return Math.min(plain, delta);
  }

  /** Estimated bits of a string column's ids as COLUMNAR writes them (0 = same as previous). */
  private static long idBits(int[] id, int c) {
    long bits = 0;
    int prev = -1;
    for (int j = 0; j < c; j++) {
      bits += id[j] == prev ? 1 : SeriesColumns.bits(id[j] + 2L);
      prev = id[j];
    }
    return bits;
  }

  private void ensure(int c) {
    if (order.length < c) {
      int n = Math.max(c, order.length * 2);
      order = new int[n];
      values = new long[n];
      head = new boolean[n];
    }
    if (starts.length < c + 1) {
      starts = new int[Math.max(c + 1, starts.length * 2)];
    }
  }

  private static int[] grow(int[] a, int n) {
    return a == null || a.length < n ? new int[Math.max(n, 64)] : a;
  }
}

package io.edgesync.protocol.codec.internal;

import java.util.ArrayList;
import java.util.Arrays;

/**
 * Wire constants and the per-session state shared by {@link TemplateStreamEncoder} and {@link
 * TemplateStreamDecoder} (TEMPLATE_STREAM in docs/codecs.md). Both sides update the state with the
 * same rules after every record, so a value is sent as its difference from what both sides predict.
 * The limits below are part of the format: both sides must use the same numbers.
 */
final class TemplateStream {
  static final String NAME = "TEMPLATE_STREAM";

  static final int FLAG_ZSTD_STREAM = 1;

  static final int CODE_SAME_TEMPLATE = 0;
  static final int CODE_RAW = 1;
  static final int CODE_NEW_TEMPLATE = 2;
  static final int CODE_FIRST_ID = 3;

  /** A listed kind meaning: a decimal whose scale byte precedes its value. */
  static final int KIND_DECIMAL_SCALED = 6;

  static final int UNIT_MS = 0;
  static final int UNIT_S = 1;

  /** Templates a session may define; records of further shapes are sent raw. */
  static final int MAX_TEMPLATES = 4096;

  /** Skeleton bytes all templates of a session may hold together. */
  static final long MAX_TEMPLATE_BYTES = 1 << 20;

  /** Strings longer than this are never added to a dictionary. */
  static final int MAX_DICTIONARY_STRING_BYTES = 256;

  /** Dictionary entries one hole may hold. */
  static final int MAX_DICTIONARY_ENTRIES = 4096;

  /** String bytes all dictionaries of a session may hold together. */
  static final long MAX_DICTIONARY_BYTES = 1 << 20;

  /** An origin and a column value this close (in ms) make that column the origin's anchor. */
  static final long ANCHOR_WINDOW_MS = 86_400_000L;

  private TemplateStream() {}

  /** A template known to the session, with the state of each of its holes. */
  static final class Template {
    final int id;
    final byte[] segments;
    final int[] segOff;
    final int[] segLen;
    final int holes;
    final int anchor; // hole index, or -1
    final int anchorUnit;
    final Slot[] slots;

    Template(int id, byte[] segments, int[] segOff, int[] segLen, int anchor, int anchorUnit) {
      this.id = id;
      this.segments = segments;
      this.segOff = segOff;
      this.segLen = segLen;
      this.holes = segOff.length - 1;
      this.anchor = anchor;
      this.anchorUnit = anchorUnit;
      this.slots = new Slot[holes];
      for (int i = 0; i < holes; i++) {
        slots[i] = new Slot();
      }
    }
  }

  /** What both sides remember about one hole of one template. */
  static final class Slot {
    int lastKind = -1;
    // Strings
    final ArrayList<byte[]> dictionary = new ArrayList<>();

    /** Encoder only: dictionary entry by content. */
    java.util.HashMap<ColumnarEncoder.Key, Integer> index;

    byte[] previousString;
    // Decimals: values are kept as mantissas at scale `scale` (the largest seen).
    int scale = -1;
    int minScale;
    long last;
    long lastDelta;
    long costDelta;
    long costDod;
    // The value of the current record, for the origin anchor.
    long currentMantissa;
    int currentScale;

    boolean useDod() {
      return costDod < costDelta;
    }

    long predict() {
      return useDod() ? last + lastDelta : last;
    }

    /** Raises the column scale to {@code s}; state that would overflow starts again at zero. */
    void rescale(int s) {
      int k = s - scale;
      if (Decimals.fits(last, k) && Decimals.fits(lastDelta, k)) {
        last *= Decimals.pow10(k);
        lastDelta *= Decimals.pow10(k);
      } else {
        last = 0;
        lastDelta = 0;
      }
      scale = s;
    }

    /** After a decimal at the column scale: remember it and update the adaptive costs. */
    void update(long value) {
      long d = value - last;
      costDelta = costDelta - (costDelta >> 3) + bitLength(Varints.zigzag(d));
      costDod = costDod - (costDod >> 3) + bitLength(Varints.zigzag(d - lastDelta));
      lastDelta = d;
      last = value;
    }

    private static int bitLength(long v) {
      return 64 - Long.numberOfLeadingZeros(v);
    }
  }

  /**
   * The origin time both sides predict for each record, so that only the difference travels: from
   * the template's anchor column when it holds a whole decimal (ms or s) plus the offset seen last,
   * else the previous origin plus the previous step.
   */
  static final class Origins {
    private long last;
    private long lastDelta;
    private long anchorOffset;

    /** The origin of the record last written or read. */
    long last() {
      return last;
    }

    /** Encoder: the residual that stands for {@code origin} after a record of {@code t}. */
    long residual(long origin, Template t) {
      Slot anchor = usableAnchor(t);
      long residual;
      if (anchor != null) {
        long offset = origin - anchorBase(t, anchor);
        residual = offset - anchorOffset;
        anchorOffset = offset;
      } else {
        residual = origin - last - lastDelta;
      }
      advance(origin);
      return residual;
    }

    /** Decoder: the origin that {@code residual} stands for after a record of {@code t}. */
    long origin(long residual, Template t) {
      Slot anchor = usableAnchor(t);
      long origin;
      if (anchor != null) {
        long offset = anchorOffset + residual;
        origin = anchorBase(t, anchor) + offset;
        anchorOffset = offset;
      } else {
        origin = last + lastDelta + residual;
      }
      advance(origin);
      return origin;
    }

    private void advance(long origin) {
      lastDelta = origin - last;
      last = origin;
    }

    /** The anchor column of {@code t} (null: a raw record) if it holds a whole decimal now. */
    private static Slot usableAnchor(Template t) {
      Slot anchor = t == null || t.anchor < 0 ? null : t.slots[t.anchor];
      return anchor != null && anchor.lastKind == Kinds.DECIMAL && anchor.currentScale == 0
          ? anchor
          : null;
    }

    private static long anchorBase(Template t, Slot anchor) {
      return t.anchorUnit == UNIT_MS ? anchor.currentMantissa : anchor.currentMantissa * 1000;
    }
  }

  /** Dictionary bookkeeping shared by the session: whether a string may be added. */
  static boolean mayAdd(Slot s, int length, long sessionDictionaryBytes) {
    return length <= MAX_DICTIONARY_STRING_BYTES
        && s.dictionary.size() < MAX_DICTIONARY_ENTRIES
        && sessionDictionaryBytes + length <= MAX_DICTIONARY_BYTES;
  }

  static byte[] copy(byte[] a, int off, int len) {
    return Arrays.copyOfRange(a, off, off + len);
  }
}

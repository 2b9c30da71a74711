package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.internal.ColumnarEncoder.Key;
import io.edgesync.protocol.codec.internal.TemplateStream.Slot;
import io.edgesync.protocol.codec.internal.TemplateStream.Template;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;

/**
 * The edge side of TEMPLATE_STREAM: writes each record as a reference to a template the session
 * already knows plus its values as differences from the session's previous values, so that a batch
 * of one record costs a few bytes. The state lives for one session; every batch it encodes must
 * reach the decoder, in order. Not thread safe.
 */
public final class TemplateStreamEncoder {
  private final JsonScanner scanner = new JsonScanner();
  private final ArrayList<Template> templates = new ArrayList<>();
  private final HashMap<Key, Template> byKey = new HashMap<>();
  private final Key probe = new Key();
  private long templateBytes;
  private long dictionaryBytes;
  private Template previous;
  private final TemplateStream.Origins origins = new TemplateStream.Origins();
  // Per record scratch.
  private int[] listed = new int[16];
  private boolean[] explicit = new boolean[16];
  private byte[] kinds = new byte[16];

  /** Whether the record would be written as a template reference (not raw). */
  public boolean fits(byte[] payload) {
    return scanner.scan(payload);
  }

  /** Appends the rows of {@code records} to {@code rows} and advances the session state. */
  public void writeRows(List<Record> records, ByteSink rows) {
    for (Record r : records) {
      writeRecord(r, rows);
    }
  }

  private void writeRecord(Record r, ByteSink rows) {
    byte[] p = r.payload();
    Template t = null;
    boolean defined = false;
    if (scanner.scan(p)) {
      if (previous != null && matches(previous)) {
        t = previous;
      } else {
        probe.set(scanner.key, 0, scanner.keyLength);
        t = byKey.get(probe);
        if (t == null
            && templates.size() < TemplateStream.MAX_TEMPLATES
            && templateBytes + scanner.skeletonLength() <= TemplateStream.MAX_TEMPLATE_BYTES) {
          t = define(r.originMs());
          defined = true;
        }
      }
    }
    if (t == null) {
      rows.varint(TemplateStream.CODE_RAW << 1);
      rows.varint(p.length);
      rows.write(p);
      rows.zigzag(origins.residual(r.originMs(), null));
      return;
    }
    int holes = t.holes;
    int changes = listKinds(t);
    int code =
        defined
            ? TemplateStream.CODE_NEW_TEMPLATE
            : t == previous
                ? TemplateStream.CODE_SAME_TEMPLATE
                : TemplateStream.CODE_FIRST_ID + t.id;
    rows.varint(((long) code << 1) | (changes > 0 ? 1 : 0));
    if (defined) {
      rows.varint(holes);
      for (int i = 0; i <= holes; i++) {
        rows.varint(t.segLen[i]);
        rows.write(t.segments, t.segOff[i], t.segLen[i]);
      }
      rows.varint(t.anchor + 1);
      if (t.anchor >= 0) {
        rows.write(t.anchorUnit);
      }
    }
    if (changes > 0) {
      rows.varint(changes);
      for (int c = 0; c < changes; c++) {
        int h = listed[c];
        rows.varint(h);
        rows.write(explicit[h] ? TemplateStream.KIND_DECIMAL_SCALED : kinds[h]);
      }
    }
    for (int h = 0; h < holes; h++) {
      writeValue(t.slots[h], h, kinds[h], explicit[h], p, rows);
    }
    rows.zigzag(origins.residual(r.originMs(), t));
    previous = t;
  }

  /**
   * Each hole's kind in the scanned record ({@code kinds}, {@code explicit} for a decimal that
   * carries its scale) and the holes whose kind must be listed ({@code listed}); returns how many.
   */
  private int listKinds(Template t) {
    int holes = t.holes;
    if (listed.length < holes) {
      listed = new int[holes * 2];
      explicit = new boolean[holes * 2];
      kinds = new byte[holes * 2];
    }
    int changes = 0;
    for (int h = 0; h < holes; h++) {
      Slot s = t.slots[h];
      byte k = scanner.kind[h];
      boolean ex = false;
      if (k == Kinds.DECIMAL) {
        int sc = scanner.scale[h];
        if (s.scale < 0 || sc > s.scale) {
          ex = true;
        } else if (!Decimals.fits(scanner.mantissa[h], s.scale - sc)) {
          k = Kinds.NUMTEXT;
        } else {
          long m = scanner.mantissa[h] * Decimals.pow10(s.scale - sc);
          int predicted = s.scale - Decimals.trailingZeros(m, s.scale - s.minScale);
          ex = predicted != sc;
        }
      }
      kinds[h] = k;
      explicit[h] = ex;
      if (ex || k != s.lastKind) {
        listed[changes++] = h;
      }
    }
    return changes;
  }

  private boolean matches(Template t) {
    if (t.holes != scanner.holes || t.segments.length != scanner.skeletonLength()) {
      return false;
    }
    for (int i = 0; i <= t.holes; i++) {
      if (t.segLen[i] != scanner.segmentLength(i)) {
        return false;
      }
    }
    return Arrays.equals(scanner.key, 0, t.segments.length, t.segments, 0, t.segments.length);
  }

  private Template define(long originMs) {
    int holes = scanner.holes;
    int skeleton = scanner.skeletonLength();
    byte[] segments = Arrays.copyOf(scanner.key, skeleton);
    int[] off = new int[holes + 1];
    int[] len = new int[holes + 1];
    int at = 0;
    for (int i = 0; i <= holes; i++) {
      off[i] = at;
      len[i] = scanner.segmentLength(i);
      at += len[i];
    }
    int anchor = -1;
    int unit = TemplateStream.UNIT_MS;
    for (int h = 0; h < holes && anchor < 0; h++) {
      if (scanner.kind[h] != Kinds.DECIMAL || scanner.scale[h] != 0) {
        continue;
      }
      long v = scanner.mantissa[h];
      if (Math.abs(originMs - v) <= TemplateStream.ANCHOR_WINDOW_MS) {
        anchor = h;
        unit = TemplateStream.UNIT_MS;
      } else if (Math.abs(v) < Long.MAX_VALUE / 1000
          && Math.abs(originMs - v * 1000) <= TemplateStream.ANCHOR_WINDOW_MS) {
        anchor = h;
        unit = TemplateStream.UNIT_S;
      }
    }
    Template t = new Template(templates.size(), segments, off, len, anchor, unit);
    templates.add(t);
    byKey.put(new Key().copyOf(scanner.key, scanner.keyLength), t);
    templateBytes += skeleton;
    return t;
  }

  private void writeValue(Slot s, int h, byte kind, boolean ex, byte[] p, ByteSink rows) {
    int st = scanner.start[h];
    int len = scanner.end[h] - st;
    switch (kind) {
      case Kinds.STRING -> {
        byte[] prev = s.previousString;
        if (prev != null && prev.length == len && Arrays.equals(prev, 0, len, p, st, st + len)) {
          rows.varint(0);
          break;
        }
        HashMap<Key, Integer> index = s.index;
        if (index == null) {
          index = s.index = new HashMap<>();
        }
        Integer id = index.get(probe.set(p, st, len));
        if (id != null) {
          rows.varint(id + 2L);
          s.previousString = s.dictionary.get(id);
        } else {
          rows.varint(1);
          rows.varint(len);
          rows.write(p, st, len);
          byte[] copy = TemplateStream.copy(p, st, len);
          if (TemplateStream.mayAdd(s, len, dictionaryBytes)) {
            index.put(new Key().set(copy, 0, len), s.dictionary.size());
            s.dictionary.add(copy);
            dictionaryBytes += len;
          }
          s.previousString = copy;
        }
      }
      case Kinds.DECIMAL -> {
        int sc = scanner.scale[h];
        long m = scanner.mantissa[h];
        if (ex) {
          rows.write(sc);
          if (s.scale < 0) {
            s.scale = sc;
            s.minScale = sc;
          } else if (sc > s.scale) {
            s.rescale(sc);
          }
        }
        long value = m * Decimals.pow10(s.scale - sc);
        rows.zigzag(value - s.predict());
        s.update(value);
        if (ex) {
          s.minScale = Math.min(s.minScale, sc);
        }
        s.currentMantissa = m;
        s.currentScale = sc;
      }
      case Kinds.NUMTEXT -> {
        rows.varint(len);
        rows.write(p, st, len);
      }
      default -> {
        // true, false, null: the kind is the value
      }
    }
    s.lastKind = kind;
  }
}

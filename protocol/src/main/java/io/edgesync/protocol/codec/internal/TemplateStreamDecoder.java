package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.internal.TemplateStream.Slot;
import io.edgesync.protocol.codec.internal.TemplateStream.Template;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The cloud side of TEMPLATE_STREAM: reads the rows written by {@link TemplateStreamEncoder},
 * keeping the same session state. Batches must be decoded in the order they were encoded; after an
 * error the state is unusable and the session must start again. Not thread safe.
 */
public final class TemplateStreamDecoder {
  private static final String NAME = TemplateStream.NAME;
  private final ArrayList<Template> templates = new ArrayList<>();
  private long templateBytes;
  private long dictionaryBytes;
  private Template previous;
  private final TemplateStream.Origins origins = new TemplateStream.Origins();
  private final ByteSink buf = new ByteSink(256);
  private byte[] kinds = new byte[16];
  private boolean[] explicit = new boolean[16];

  /** Reads {@code count} records from {@code rows}, which must hold exactly those. */
  public List<Record> readRows(ByteSource rows, long firstSequence, int count, long maxDecodedBytes)
      throws ProtocolException {
    List<Record> out = new ArrayList<>(Math.min(count, 65_536));
    long decoded = 0;
    for (int i = 0; i < count; i++) {
      byte[] payload = readRecord(rows, i);
      decoded += payload.length;
      if (decoded > maxDecodedBytes) {
        throw Corrupt.invalid(
            NAME, "decodes to more than the limit of " + maxDecodedBytes + " bytes");
      }
      out.add(new Record(firstSequence + i, origins.last(), payload));
    }
    rows.expectEnd();
    return out;
  }

  private byte[] readRecord(ByteSource in, int index) throws ProtocolException {
    long head = in.readVarint();
    boolean kindsListed = (head & 1) != 0;
    long code = head >>> 1;
    if (code == TemplateStream.CODE_RAW) {
      if (kindsListed) {
        throw in.corrupt("lists kinds for raw record " + index);
      }
      int length = in.readCount(ProtocolLimits.MAX_RECORD_BYTES, "a raw record length");
      int at = in.take(length, "raw record " + index);
      origins.origin(in.readZigzag(), null);
      return Arrays.copyOfRange(in.array(), at, at + length);
    }
    Template t = template(in, code, index);
    int holes = t.holes;
    if (kinds.length < holes) {
      kinds = new byte[holes * 2];
      explicit = new boolean[holes * 2];
    }
    for (int h = 0; h < holes; h++) {
      kinds[h] = (byte) t.slots[h].lastKind;
      explicit[h] = false;
    }
    if (kindsListed) {
      readKindChanges(in, holes);
    }
    buf.clear();
    for (int h = 0; h < holes; h++) {
      buf.write(t.segments, t.segOff[h], t.segLen[h]);
      if (kinds[h] < 0) {
        throw in.corrupt("has no kind for hole " + h + " of template " + t.id);
      }
      readValue(in, t.slots[h], kinds[h], explicit[h]);
      if (buf.size() > ProtocolLimits.MAX_RECORD_BYTES) {
        throw in.corrupt("builds a record above " + ProtocolLimits.MAX_RECORD_BYTES + " bytes");
      }
    }
    buf.write(t.segments, t.segOff[holes], t.segLen[holes]);
    if (buf.size() > ProtocolLimits.MAX_RECORD_BYTES) {
      throw in.corrupt("builds a record above " + ProtocolLimits.MAX_RECORD_BYTES + " bytes");
    }
    origins.origin(in.readZigzag(), t);
    previous = t;
    return buf.toByteArray();
  }

  /** The template a record names by {@code code}: the previous one, a new one, or one by id. */
  private Template template(ByteSource in, long code, int index) throws ProtocolException {
    if (code == TemplateStream.CODE_SAME_TEMPLATE) {
      if (previous == null) {
        throw in.corrupt("repeats the previous template before any (record " + index + ")");
      }
      return previous;
    } else if (code == TemplateStream.CODE_NEW_TEMPLATE) {
      return readTemplate(in);
    } else if (code - TemplateStream.CODE_FIRST_ID < templates.size()) {
      return templates.get((int) (code - TemplateStream.CODE_FIRST_ID));
    }
    throw in.corrupt(
        "refers to template "
            + Long.toUnsignedString(code - TemplateStream.CODE_FIRST_ID)
            + " but the session has "
            + templates.size());
  }

  /** The holes whose kind a record lists as changed from the template's last ones. */
  private void readKindChanges(ByteSource in, int holes) throws ProtocolException {
    int changes = in.readCount(holes, "a count of kind changes");
    if (changes == 0) {
      throw in.corrupt("lists zero kind changes");
    }
    int last = -1;
    for (int c = 0; c < changes; c++) {
      int h = in.readCount(holes - 1L, "a hole index");
      if (h <= last) {
        throw in.corrupt("lists hole " + h + " out of order");
      }
      last = h;
      int k = in.readByte();
      if (k == TemplateStream.KIND_DECIMAL_SCALED) {
        kinds[h] = Kinds.DECIMAL;
        explicit[h] = true;
      } else if (k < Kinds.COUNT) {
        kinds[h] = (byte) k;
      } else {
        throw in.corrupt("has unknown kind " + k);
      }
    }
  }

  private Template readTemplate(ByteSource in) throws ProtocolException {
    if (templates.size() >= TemplateStream.MAX_TEMPLATES) {
      throw in.corrupt("defines more than " + TemplateStream.MAX_TEMPLATES + " templates");
    }
    int holes = in.readCount(JsonScanner.MAX_HOLES, "a hole count");
    int[] off = new int[holes + 1];
    int[] len = new int[holes + 1];
    int[] at = new int[holes + 1];
    int total = 0;
    for (int i = 0; i <= holes; i++) {
      len[i] = in.readCount(JsonScanner.MAX_SKELETON_BYTES, "a segment length");
      at[i] = in.take(len[i], "a template segment");
      off[i] = total;
      total += len[i];
      if (total > JsonScanner.MAX_SKELETON_BYTES) {
        throw in.corrupt("defines a template above " + JsonScanner.MAX_SKELETON_BYTES + " bytes");
      }
    }
    if (templateBytes + total > TemplateStream.MAX_TEMPLATE_BYTES) {
      throw in.corrupt("defines templates above " + TemplateStream.MAX_TEMPLATE_BYTES + " bytes");
    }
    byte[] segments = new byte[total];
    for (int i = 0; i <= holes; i++) {
      System.arraycopy(in.array(), at[i], segments, off[i], len[i]);
    }
    int anchor = in.readCount(holes, "an anchor") - 1;
    int unit = TemplateStream.UNIT_MS;
    if (anchor >= 0) {
      unit = in.readByte();
      if (unit != TemplateStream.UNIT_MS && unit != TemplateStream.UNIT_S) {
        throw in.corrupt("has unknown anchor unit " + unit);
      }
    }
    Template t = new Template(templates.size(), segments, off, len, anchor, unit);
    templates.add(t);
    templateBytes += total;
    return t;
  }

  private void readValue(ByteSource in, Slot s, byte kind, boolean ex) throws ProtocolException {
    switch (kind) {
      case Kinds.STRING -> {
        long code = in.readVarint();
        byte[] value;
        if (code == 0) {
          if (s.previousString == null) {
            throw in.corrupt("repeats a string before the first");
          }
          value = s.previousString;
        } else if (code == 1) {
          int length = in.readCount(ProtocolLimits.MAX_RECORD_BYTES, "a string length");
          int at = in.take(length, "a string");
          value = TemplateStream.copy(in.array(), at, length);
          if (TemplateStream.mayAdd(s, length, dictionaryBytes)) {
            s.dictionary.add(value);
            dictionaryBytes += length;
          }
        } else if (code - 2 < s.dictionary.size()) {
          value = s.dictionary.get((int) (code - 2));
        } else {
          throw in.corrupt(
              "refers to string "
                  + Long.toUnsignedString(code - 2)
                  + " of a dictionary of "
                  + s.dictionary.size());
        }
        s.previousString = value;
        buf.write(value);
      }
      case Kinds.DECIMAL -> {
        int sc;
        if (ex) {
          sc = in.readByte();
          if (sc > Decimals.MAX_SCALE) {
            throw in.corrupt("has scale " + sc + ", above " + Decimals.MAX_SCALE);
          }
          if (s.scale < 0) {
            s.scale = sc;
            s.minScale = sc;
          } else if (sc > s.scale) {
            s.rescale(sc);
          }
        } else if (s.scale < 0) {
          throw in.corrupt("has a decimal without a scale");
        } else {
          sc = -1;
        }
        long value = s.predict() + in.readZigzag();
        if (!ex) {
          sc = s.scale - Decimals.trailingZeros(value, s.scale - s.minScale);
        }
        long p = Decimals.pow10(s.scale - sc);
        long m = value / p;
        if (m * p != value) {
          throw in.corrupt("has decimal " + value + " that does not have scale " + sc);
        }
        s.update(value);
        if (ex) {
          s.minScale = Math.min(s.minScale, sc);
        }
        s.currentMantissa = m;
        s.currentScale = sc;
        Decimals.format(m, sc, buf);
      }
      case Kinds.NUMTEXT -> {
        int length = in.readCount(ProtocolLimits.MAX_RECORD_BYTES, "a number text length");
        int at = in.take(length, "a number text");
        buf.write(in.array(), at, length);
      }
      case Kinds.TRUE -> buf.write(Kinds.TRUE_BYTES);
      case Kinds.FALSE -> buf.write(Kinds.FALSE_BYTES);
      default -> buf.write(Kinds.NULL_BYTES);
    }
    s.lastKind = kind;
  }
}

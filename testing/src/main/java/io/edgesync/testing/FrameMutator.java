package io.edgesync.testing;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded fuzz inputs for the wire protocol: valid frames a device could send next (given the
 * cloud's checkpoints), then mutated, either through their fields (counts, sequences, names,
 * versions, enum values, a record payload layout) or as bytes (bit flips, byte values, truncation,
 * extension, splices with another frame, length-field edits, huge and overlong varints, random
 * protobuf fields, deleted ranges, two frames merged), usually followed by a fresh checksum trailer
 * so that the input gets past it into the parser. Some inputs keep a stale trailer, have none, are
 * random bytes, or are larger than the frame limit.
 *
 * <p>The same seed and the same calls give the same inputs. {@link #describeLast()} names the
 * operations behind the last input, for failure reports. Device ids it generates never start with
 * {@code good}: a test's well-behaved device can use such an id without the fuzzer impersonating
 * it. Not thread safe.
 */
public final class FrameMutator {
  private static final String[] BAD_NAMES = {
    "", " ", "a b", "-x", ".x", "ü", "a/b", "a\u0000b", "x".repeat(65), "x".repeat(200)
  };
  private static final long[] EDGE_LONGS = {
    0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, 0xFFFF_FFFFL, 1L << 32, 1L << 53
  };

  private final SplittableRandom random;
  private final int maxFrameBytes;
  private final List<String> ops = new ArrayList<>();

  /**
   * @param maxFrameBytes the frame limit of the receiver under test; some inputs exceed it
   */
  public FrameMutator(long seed, int maxFrameBytes) {
    this.random = new SplittableRandom(seed);
    this.maxFrameBytes = maxFrameBytes;
  }

  /** What produced the last input, e.g. {@code [batch(a, 3, n=2), field: count=0, reseal]}. */
  public String describeLast() {
    return ops.toString();
  }

  /**
   * The next input for a receiver in a session of {@code deviceId}, whose committed checkpoints are
   * {@code checkpoints}.
   */
  public byte[] next(String deviceId, Map<String, Long> checkpoints) {
    ops.clear();
    int r = random.nextInt(100);
    if (r < 3) {
      ops.add("random bytes");
      byte[] b = bytes(random.nextInt(0, 64));
      return random.nextBoolean() ? b : reseal(b);
    }
    if (r < 5) {
      ops.add("oversized");
      return bytes(maxFrameBytes + random.nextInt(1, 64));
    }
    Frame frame = validFrame(deviceId, checkpoints);
    if (r < 15) {
      ops.add("unchanged");
      return FrameCodec.encode(frame);
    }
    if (r < 40) {
      frame = mutateFields(frame, checkpoints);
      if (random.nextInt(4) > 0) {
        ops.add("reseal");
        return FrameCodec.encode(frame);
      }
      byte[] body = frame.toByteArray();
      return reseal(mutateBytes(body, deviceId, checkpoints));
    }
    byte[] body = frame.toByteArray();
    byte[] mutated = mutateBytes(body, deviceId, checkpoints);
    int t = random.nextInt(10);
    if (t == 0) {
      ops.add("stale checksum");
      byte[] original = FrameCodec.encode(frame);
      byte[] out = Arrays.copyOf(mutated, mutated.length + FrameCodec.TRAILER_BYTES);
      System.arraycopy(
          original,
          original.length - FrameCodec.TRAILER_BYTES,
          out,
          mutated.length,
          FrameCodec.TRAILER_BYTES);
      return out;
    }
    if (t == 1) {
      ops.add("no checksum");
      return mutated;
    }
    return reseal(mutated);
  }

  /** A record payload layout for {@code count} records (or not), mutated or not. */
  public byte[] nextLayout(int count) {
    ops.clear();
    byte[] layout = RecordLayout.encode(records(1, count));
    if (random.nextInt(5) == 0) {
      ops.add("layout unchanged");
      return layout;
    }
    return mutateLayout(layout);
  }

  // ---------------------------------------------------------------- valid frames

  /** A frame a device could legitimately send in this state (and now and then one it may not). */
  public Frame validFrame(String deviceId, Map<String, Long> checkpoints) {
    int r = random.nextInt(100);
    if (r < 12) {
      ops.add("hello");
      Hello.Builder h =
          Hello.newBuilder()
              .setProtocolVersion(1)
              .setDeviceId(deviceId)
              .setAgentVersion("fuzz/1")
              .setStoreId("store-" + deviceId);
      for (Map.Entry<String, Long> cp : checkpoints.entrySet()) {
        h.addCheckpoints(
            StreamCheckpoint.newBuilder().setStream(cp.getKey()).setSequence(cp.getValue()));
      }
      return Frame.newBuilder().setHello(h).build();
    }
    String stream = stream(checkpoints);
    long next = checkpoints.getOrDefault(stream, 0L) + 1;
    if (r < 70) {
      // Mostly the next records; sometimes a resend that overlaps the checkpoint.
      long first = random.nextInt(5) == 0 ? Math.max(1, next - random.nextInt(1, 4)) : next;
      int n = random.nextInt(1, 6);
      ops.add("batch(" + stream + ", " + first + ", n=" + n + ")");
      return Frame.newBuilder().setBatch(FrameCodec.batch(stream, records(first, n))).build();
    }
    if (r < 80) {
      long last = next + random.nextInt(0, 5);
      ops.add("gap(" + stream + ", " + next + ".." + last + ")");
      return Frame.newBuilder()
          .setGap(
              Gap.newBuilder()
                  .setStream(stream)
                  .setFirstSequence(next)
                  .setLastSequence(last)
                  .setReason(GapReason.forNumber(random.nextInt(1, 4)))
                  .setDroppedAtMs(random.nextLong(0, 1L << 41)))
          .build();
    }
    if (r < 90) {
      ops.add("heartbeat");
      return Frames.heartbeat(random.nextLong(0, 1L << 41), random.nextBoolean());
    }
    if (r < 94) {
      ops.add("error");
      return Frames.error(ErrorCode.forNumber(random.nextInt(1, 10)), "device says", false);
    }
    if (r < 97) {
      ops.add("ack (cloud only)");
      return Frames.ack(stream, next);
    }
    ops.add("welcome (cloud only)");
    return Frame.newBuilder().setWelcome(Welcome.newBuilder().setProtocolVersion(1)).build();
  }

  private String stream(Map<String, Long> checkpoints) {
    if (!checkpoints.isEmpty() && random.nextInt(4) > 0) {
      List<String> names = new ArrayList<>(checkpoints.keySet());
      names.sort(null); // HashMap order is not part of the seed
      return names.get(random.nextInt(names.size()));
    }
    return "s" + random.nextInt(4);
  }

  private List<Record> records(long first, int n) {
    List<Record> out = new ArrayList<>(n);
    long origin = random.nextLong(0, 1L << 41);
    for (int i = 0; i < n; i++) {
      origin += random.nextInt(-5, 1_000);
      byte[] payload;
      if (random.nextBoolean()) {
        payload =
            ("{\"i\":" + (first + i) + ",\"v\":" + random.nextInt() + "}")
                .getBytes(StandardCharsets.UTF_8);
      } else {
        payload = bytes(random.nextInt(0, 40));
      }
      out.add(new Record(first + i, origin, payload));
    }
    return out;
  }

  // ---------------------------------------------------------------- field mutations

  private Frame mutateFields(Frame frame, Map<String, Long> checkpoints) {
    switch (frame.getBodyCase()) {
      case BATCH -> {
        RecordBatch.Builder b = frame.getBatch().toBuilder();
        switch (random.nextInt(7)) {
          case 0 -> b.setCount(field("count", (int) pick(EDGE_LONGS, b.getCount() + 1L)));
          case 1 -> b.setFirstSequence(field("first_sequence", sequenceLike(b, checkpoints)));
          case 2 -> b.setStream(field("stream", name()));
          case 3 -> b.setCodecValue(field("codec", random.nextInt(-1, 5)));
          case 4 -> b.setRawBytes(field("raw_bytes", random.nextInt()));
          default -> {
            ops.add("payload layout");
            b.setPayload(ByteString.copyFrom(mutateLayout(b.getPayload().toByteArray())));
          }
        }
        return frame.toBuilder().setBatch(b).build();
      }
      case GAP -> {
        Gap.Builder g = frame.getGap().toBuilder();
        switch (random.nextInt(5)) {
          case 0 -> g.setFirstSequence(field("first_sequence", pick(EDGE_LONGS, 2)));
          case 1 -> g.setLastSequence(field("last_sequence", pick(EDGE_LONGS, 0)));
          case 2 -> g.setReasonValue(field("reason", random.nextInt(-1, 8)));
          case 3 -> g.setStream(field("stream", name()));
          default -> {
            long f = g.getFirstSequence();
            g.setFirstSequence(g.getLastSequence() + 1).setLastSequence(f);
            ops.add("field: gap range reversed");
          }
        }
        return frame.toBuilder().setGap(g).build();
      }
      case HELLO -> {
        Hello.Builder h = frame.getHello().toBuilder();
        switch (random.nextInt(5)) {
          case 0 -> h.setProtocolVersion(field("protocol_version", random.nextInt(-1, 4)));
          case 1 -> h.setDeviceId(field("device_id", deviceId()));
          case 2 -> h.setStoreId(field("store_id", random.nextBoolean() ? "" : "other-store"));
          case 3 ->
              h.addCheckpoints(
                  StreamCheckpoint.newBuilder()
                      .setStream(field("checkpoint stream", name()))
                      .setSequence(pick(EDGE_LONGS, 7)));
          default -> {
            ops.add("field: 1,000 capabilities");
            for (int i = 0; i < 1_000; i++) {
              h.addCapabilities("cap-" + i);
            }
          }
        }
        return frame.toBuilder().setHello(h).build();
      }
      case HEARTBEAT -> {
        return Frames.heartbeat(field("sent_at_ms", pick(EDGE_LONGS, 0)), random.nextBoolean());
      }
      case ACK -> {
        return frame.toBuilder()
            .setAck(Ack.newBuilder().setStream(name()).setSequence(pick(EDGE_LONGS, 3)))
            .build();
      }
      default -> {
        ops.add("field: none");
        return frame;
      }
    }
  }

  private long sequenceLike(RecordBatch.Builder b, Map<String, Long> checkpoints) {
    long cp = checkpoints.getOrDefault(b.getStream(), 0L);
    return switch (random.nextInt(4)) {
      case 0 -> cp + 2; // a hole
      case 1 -> Long.MAX_VALUE - random.nextInt(3);
      case 2 -> -random.nextInt(1, 3); // 2^64 - k as uint64
      default -> pick(EDGE_LONGS, cp);
    };
  }

  private <T> T field(String name, T value) {
    String shown = String.valueOf(value);
    ops.add(
        "field: " + name + "=" + (shown.length() > 20 ? shown.substring(0, 20) + "..." : shown));
    return value;
  }

  private String name() {
    int r = random.nextInt(4);
    if (r == 0) {
      return "s" + random.nextInt(6);
    }
    return BAD_NAMES[random.nextInt(BAD_NAMES.length)];
  }

  private String deviceId() {
    return switch (random.nextInt(4)) {
      case 0 -> "fz-" + random.nextInt(1_000);
      case 1 -> "x".repeat(129);
      case 2 -> "stranger-" + random.nextInt(10);
      default -> BAD_NAMES[random.nextInt(BAD_NAMES.length)];
    };
  }

  private long pick(long[] choices, long alternative) {
    int i = random.nextInt(choices.length + 1);
    return i == choices.length ? alternative : choices[i];
  }

  // ---------------------------------------------------------------- byte mutations

  private byte[] mutateBytes(byte[] body, String deviceId, Map<String, Long> checkpoints) {
    byte[] b = body;
    for (int n = random.nextInt(1, 4); n > 0; n--) {
      b = mutateOnce(b, deviceId, checkpoints);
    }
    return b;
  }

  /** One byte mutation, drawn from the eleven kinds (each draws its own details after the kind). */
  private byte[] mutateOnce(byte[] b, String deviceId, Map<String, Long> checkpoints) {
    return switch (random.nextInt(11)) {
      case 0 -> flipBit(b);
      case 1 -> setByte(b);
      case 2 -> {
        int len = b.length == 0 ? 0 : random.nextInt(b.length);
        ops.add("truncate to " + len);
        yield Arrays.copyOf(b, len);
      }
      case 3 -> {
        ops.add("extend");
        yield concat(b, bytes(random.nextInt(1, 16)));
      }
      case 4 -> splice(b, deviceId, checkpoints);
      case 5 -> editLengthField(b);
      case 6 -> hugeVarint(b);
      case 7 -> randomField(b);
      case 8 -> deleteRange(b);
      case 9 -> {
        ops.add("merge with another frame");
        yield concat(b, validFrame(deviceId, checkpoints).toByteArray());
      }
      default -> flipBitInsideField(b);
    };
  }

  private byte[] flipBit(byte[] b) {
    if (b.length == 0) {
      return b;
    }
    return flipBitAt(b, random.nextInt(b.length), "flip bit ");
  }

  /** {@code b} with one random bit of byte {@code at} flipped (the bit drawn after {@code at}). */
  private byte[] flipBitAt(byte[] b, int at, String op) {
    ops.add(op + at);
    byte[] c = b.clone();
    c[at] ^= (byte) (1 << random.nextInt(8));
    return c;
  }

  private byte[] setByte(byte[] b) {
    if (b.length == 0) {
      return b;
    }
    int at = random.nextInt(b.length);
    byte v = (byte) new int[] {0x00, 0xff, 0x7f, 0x80, random.nextInt(256)}[random.nextInt(5)];
    ops.add("set byte " + at + "=" + (v & 0xff));
    byte[] c = b.clone();
    c[at] = v;
    return c;
  }

  /** A head of {@code b} followed by a tail of another valid frame. */
  private byte[] splice(byte[] b, String deviceId, Map<String, Long> checkpoints) {
    byte[] other = validFrame(deviceId, checkpoints).toByteArray();
    int cutA = b.length == 0 ? 0 : random.nextInt(b.length);
    int cutB = other.length == 0 ? 0 : random.nextInt(other.length);
    ops.add("splice " + cutA + "+" + cutB);
    return concat(Arrays.copyOf(b, cutA), Arrays.copyOfRange(other, cutB, other.length));
  }

  /** A length-delimited field's length set to a wrong value (off by one, 0, huge, 10 bytes). */
  private byte[] editLengthField(byte[] b) {
    int[] f = randomLengthField(b);
    if (f == null) {
      return b;
    }
    long v =
        switch (random.nextInt(6)) {
          case 0 -> 0;
          case 1 -> f[3] - 1L;
          case 2 -> f[3] + 1L;
          case 3 -> Integer.MAX_VALUE;
          case 4 -> -1L; // 10-byte varint
          default -> random.nextInt(0, 1 << 20);
        };
    ops.add("length at " + f[0] + ": " + f[3] + "->" + v);
    return replace(b, f[0], f[1], varint(v));
  }

  /** One of {@code b}'s length-delimited fields, drawn at random, or null if it has none. */
  private int[] randomLengthField(byte[] b) {
    List<int[]> lens = lengthFields(b);
    return lens.isEmpty() ? null : lens.get(random.nextInt(lens.size()));
  }

  /** A varint field's value replaced by a 10-byte one or an overlong (invalid) 11-byte one. */
  private byte[] hugeVarint(byte[] b) {
    List<int[]> varints = varintFields(b);
    if (varints.isEmpty()) {
      return b;
    }
    int[] f = varints.get(random.nextInt(varints.size()));
    byte[] huge;
    if (random.nextBoolean()) {
      huge = varint(random.nextLong() | Long.MIN_VALUE); // 10 bytes
    } else {
      huge = new byte[11]; // overlong: invalid
      Arrays.fill(huge, (byte) 0xff);
      huge[10] = 0x01;
    }
    ops.add("huge varint at " + f[0] + " (" + huge.length + " bytes)");
    return replace(b, f[0], f[1], huge);
  }

  /** A random protobuf field (any number, any wire type, invalid ones too) before or after. */
  private byte[] randomField(byte[] b) {
    int number = random.nextInt(4) == 0 ? random.nextInt(1, 1 << 29) : random.nextInt(1, 20);
    int wireType = random.nextInt(8);
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.writeBytes(varint(((long) number << 3) | wireType));
    switch (wireType) {
      case 0 -> f.writeBytes(varint(random.nextLong()));
      case 1 -> f.writeBytes(bytes(8));
      case 2 -> {
        byte[] v = bytes(random.nextInt(0, 12));
        f.writeBytes(varint(v.length));
        f.writeBytes(v);
      }
      case 5 -> f.writeBytes(bytes(4));
      default -> f.writeBytes(bytes(random.nextInt(0, 3))); // groups, invalid types
    }
    ops.add("random field " + number + "/" + wireType);
    return random.nextBoolean() ? concat(b, f.toByteArray()) : concat(f.toByteArray(), b);
  }

  private byte[] deleteRange(byte[] b) {
    if (b.length < 2) {
      return b;
    }
    int from = random.nextInt(b.length);
    int to = Math.min(b.length, from + random.nextInt(1, 8));
    ops.add("delete " + from + ".." + to);
    return concat(Arrays.copyOf(b, from), Arrays.copyOfRange(b, to, b.length));
  }

  /** A bit flipped inside the value of a length-delimited field (a string, a nested message). */
  private byte[] flipBitInsideField(byte[] b) {
    int[] f = randomLengthField(b);
    if (f == null) {
      return b;
    }
    if (f[3] == 0) {
      return b;
    }
    return flipBitAt(b, f[2] + random.nextInt(f[3]), "flip bit inside field at ");
  }

  private byte[] mutateLayout(byte[] layout) {
    byte[] b = layout;
    switch (random.nextInt(6)) {
      case 0 -> {
        if (b.length > 0) {
          int at = random.nextInt(b.length);
          ops.add("layout: flip bit " + at);
          b = b.clone();
          b[at] ^= (byte) (1 << random.nextInt(8));
        }
      }
      case 1 -> {
        int len = b.length == 0 ? 0 : random.nextInt(b.length);
        ops.add("layout: truncate to " + len);
        b = Arrays.copyOf(b, len);
      }
      case 2 -> {
        ops.add("layout: trailing bytes");
        b = concat(b, bytes(random.nextInt(1, 5)));
      }
      case 3 -> {
        long len =
            new long[] {-1L, 1L << 20, (1L << 20) + 1, Integer.MAX_VALUE, 1L << 35}
                [random.nextInt(5)];
        ops.add("layout: record length " + len);
        b = concat(concat(varint(0), varint(len)), b);
      }
      case 4 -> {
        ops.add("layout: huge origin delta");
        b = concat(varint(random.nextLong()), concat(varint(0), b));
      }
      default -> {
        ops.add("layout: random");
        b = bytes(random.nextInt(0, 32));
      }
    }
    return b;
  }

  // ---------------------------------------------------------------- protobuf walking

  /** Length-delimited fields: {varint offset, varint bytes, value offset, value length}. */
  private static List<int[]> lengthFields(byte[] b) {
    List<int[]> out = new ArrayList<>();
    walk(b, 0, b.length, 0, out, null);
    return out;
  }

  /** Varint-typed field values: {value offset, value bytes}. */
  private static List<int[]> varintFields(byte[] b) {
    List<int[]> out = new ArrayList<>();
    walk(b, 0, b.length, 0, null, out);
    return out;
  }

  private static void walk(
      byte[] b, int from, int to, int depth, List<int[]> lengths, List<int[]> varints) {
    int[] pos = {from};
    while (pos[0] < to) {
      long tag = readVarint(b, pos, to);
      if (pos[0] < 0) {
        return;
      }
      switch ((int) (tag & 7)) {
        case 0 -> {
          int at = pos[0];
          readVarint(b, pos, to);
          if (pos[0] < 0) {
            return;
          }
          if (varints != null) {
            varints.add(new int[] {at, pos[0] - at});
          }
        }
        case 1 -> pos[0] += 8;
        case 5 -> pos[0] += 4;
        case 2 -> {
          int at = pos[0];
          long len = readVarint(b, pos, to);
          if (pos[0] < 0 || len < 0 || len > to - pos[0]) {
            return;
          }
          if (lengths != null) {
            lengths.add(new int[] {at, pos[0] - at, pos[0], (int) len});
          }
          if (depth < 2) {
            walk(b, pos[0], pos[0] + (int) len, depth + 1, lengths, varints);
          }
          pos[0] += (int) len;
        }
        default -> {
          return;
        }
      }
    }
  }

  /** Reads a varint at {@code pos[0]}; sets {@code pos[0]} to -1 if it is cut off or too long. */
  private static long readVarint(byte[] b, int[] pos, int to) {
    long result = 0;
    for (int shift = 0; shift < 64 && pos[0] < to; shift += 7) {
      byte x = b[pos[0]++];
      result |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return result;
      }
    }
    pos[0] = -1;
    return 0;
  }

  // ---------------------------------------------------------------- bytes

  private byte[] reseal(byte[] body) {
    return FrameCodec.withChecksum(body);
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static byte[] varint(long v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(10);
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
    return out.toByteArray();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static byte[] replace(byte[] b, int at, int len, byte[] with) {
    return concat(concat(Arrays.copyOf(b, at), with), Arrays.copyOfRange(b, at + len, b.length));
  }
}

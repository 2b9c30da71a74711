package io.edgesync.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The files bench's data: a seeded mixed file (text log lines, incompressible random blobs, packed
 * binary sensor frames, interleaved in runs of 4 KiB to 1 MiB) and its edited versions. The same
 * seed gives the same bytes on every machine and JVM.
 */
final class FilesData {
  private static final String[] LEVELS = {"INFO", "INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"};
  private static final String[] COMPONENTS = {
    "modbus",
    "mqtt",
    "sensor-17",
    "sensor-42",
    "uplink",
    "watchdog",
    "gps",
    "storage",
    "camera",
    "ota",
    "power",
    "can-bus"
  };

  private FilesData() {}

  /** {@code size} bytes of mixed content from {@code seed}. */
  static byte[] mixed(long seed, int size) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] out = new byte[size];
    int pos = 0;
    long[] clock = {1_767_225_600_000L + r.nextInt(1_000_000)};
    int[] seq = {r.nextInt(1 << 20)};
    while (pos < size) {
      // Log-uniform run lengths between 4 KiB and 1 MiB.
      int len = Math.min(size - pos, (int) Math.round(4096 * Math.pow(256, r.nextDouble())));
      switch (r.nextInt(3)) {
        case 0 -> text(r, out, pos, len, clock);
        case 1 -> random(r, out, pos, len);
        default -> frames(r, out, pos, len, clock, seq);
      }
      pos += len;
    }
    return out;
  }

  private static void random(SplittableRandom r, byte[] out, int pos, int len) {
    byte[] b = new byte[len];
    r.nextBytes(b);
    System.arraycopy(b, 0, out, pos, len);
  }

  /** Log lines such as "2026-01-01T00:00:01.234Z INFO [modbus] read 12 registers in 3 ms". */
  private static void text(SplittableRandom r, byte[] out, int pos, int len, long[] clock) {
    StringBuilder s = new StringBuilder(len + 200);
    while (s.length() < len) {
      clock[0] += r.nextInt(50, 2_000);
      long ms = clock[0] % 86_400_000L;
      s.append("2026-01-")
          .append(10 + (int) (clock[0] / 86_400_000L % 20))
          .append('T')
          .append(two(ms / 3_600_000))
          .append(':')
          .append(two(ms / 60_000 % 60))
          .append(':')
          .append(two(ms / 1000 % 60))
          .append('.')
          .append(String.valueOf(ms % 1000 + 1000).substring(1))
          .append("Z ");
      String level = LEVELS[r.nextInt(LEVELS.length)];
      s.append(level).append(level.length() == 4 ? "  [" : " [");
      s.append(COMPONENTS[r.nextInt(COMPONENTS.length)]).append("] ");
      message(r, s);
      s.append('\n');
    }
    byte[] b = s.toString().getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, out, pos, len);
  }

  private static void message(SplittableRandom r, StringBuilder s) {
    switch (r.nextInt(6)) {
      case 0 ->
          s.append("temperature=")
              .append(15 + r.nextInt(20))
              .append('.')
              .append(r.nextInt(10))
              .append(" humidity=")
              .append(30 + r.nextInt(50))
              .append(" status=ok");
      case 1 ->
          s.append("read ")
              .append(1 + r.nextInt(64))
              .append(" registers in ")
              .append(r.nextInt(40))
              .append(" ms");
      case 2 ->
          s.append("request id=")
              .append(Long.toHexString(r.nextLong() >>> 32))
              .append(" took ")
              .append(r.nextInt(900))
              .append(" ms, ")
              .append(r.nextInt(4096))
              .append(" bytes");
      case 3 -> s.append("queue depth ").append(r.nextInt(10_000)).append(", flushing");
      case 4 ->
          s.append("connected to 10.0.")
              .append(r.nextInt(256))
              .append('.')
              .append(r.nextInt(256))
              .append(':')
              .append(1883 + r.nextInt(3))
              .append(" after ")
              .append(r.nextInt(5))
              .append(" retries");
      default -> s.append("battery ").append(r.nextInt(101)).append("% charging=false");
    }
  }

  private static String two(long v) {
    return v < 10 ? "0" + v : Long.toString(v);
  }

  /**
   * Packed 32-byte sensor frames: magic, type, length, sequence, timestamp, six 16-bit readings
   * that drift slowly, and a check value.
   */
  private static void frames(
      SplittableRandom r, byte[] out, int pos, int len, long[] clock, int[] seq) {
    byte[] f = new byte[32];
    short[] values = new short[6];
    for (int i = 0; i < values.length; i++) {
      values[i] = (short) r.nextInt(-2000, 2000);
    }
    int type = r.nextInt(4);
    for (int at = 0; at < len; at += f.length) {
      clock[0] += r.nextInt(90, 110);
      f[0] = (byte) 0xA5;
      f[1] = 0x5A;
      f[2] = (byte) type;
      f[3] = 24;
      putInt(f, 4, seq[0]++);
      putLong(f, 8, clock[0]);
      for (int i = 0; i < values.length; i++) {
        values[i] += (short) r.nextInt(-3, 4);
        f[16 + 2 * i] = (byte) values[i];
        f[17 + 2 * i] = (byte) (values[i] >> 8);
      }
      putInt(f, 28, Arrays.hashCode(f));
      System.arraycopy(f, 0, out, pos + at, Math.min(f.length, len - at));
    }
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) v;
    b[at + 1] = (byte) (v >> 8);
    b[at + 2] = (byte) (v >> 16);
    b[at + 3] = (byte) (v >> 24);
  }

  private static void putLong(byte[] b, int at, long v) {
    putInt(b, at, (int) v);
    putInt(b, at + 4, (int) (v >>> 32));
  }

  /** (a) {@code edits} overwrites of 1 to 8 random bytes at seeded, scattered places. */
  static byte[] smallEdits(byte[] base, int edits, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] out = base.clone();
    for (int e = 0; e < edits; e++) {
      int at = r.nextInt(out.length - 8);
      int n = 1 + r.nextInt(8);
      for (int i = 0; i < n; i++) {
        out[at + i] = (byte) r.nextInt(256);
      }
    }
    return out;
  }

  /** (b) {@code insert} inserted at {@code at}. */
  static byte[] insert(byte[] base, int at, byte[] insert) {
    byte[] out = new byte[base.length + insert.length];
    System.arraycopy(base, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(base, at, out, at + insert.length, base.length - at);
    return out;
  }

  /**
   * (e) Another file that shares {@code 1 - replacedShare} of {@code base}: {@code regions} equal
   * slots, each with a stretch of other content at a seeded place inside it.
   */
  static byte[] sharing(byte[] base, double replacedShare, int regions, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] out = base.clone();
    int slot = base.length / regions;
    int len = (int) (base.length * replacedShare / regions);
    byte[] other = mixed(seed + 1, len * regions);
    for (int i = 0; i < regions; i++) {
      int at = i * slot + r.nextInt(slot - len);
      System.arraycopy(other, i * len, out, at, len);
    }
    return out;
  }
}

package io.edgesync.cli;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The files demo's firmware images, seeded so every run publishes the same bytes: v1 is a mix of
 * what a gateway image holds (compressed blobs, strings and config text, packed tables), and v2 is
 * v1 with a few scattered small edits and a small block inserted in the middle, as a point release
 * would change it.
 */
final class DemoFirmware {
  /** Scattered edits of a few bytes each that v2 makes. */
  static final int EDITS = 40;

  /** The block v2 inserts in the middle. */
  static final int INSERT_BYTES = 3 * 1024;

  private DemoFirmware() {}

  /** A v1 image of {@code bytes}: runs of random, text and table bytes. */
  static byte[] v1(long seed, int bytes) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] out = new byte[bytes];
    int at = 0;
    while (at < bytes) {
      int run = Math.min(bytes - at, 8 * 1024 + r.nextInt(120 * 1024));
      switch (r.nextInt(3)) {
        case 0 -> fillRandom(r, out, at, run); // a compressed blob: incompressible
        case 1 -> fillText(r, out, at, run);
        default -> fillTable(r, out, at, run);
      }
      at += run;
    }
    return out;
  }

  /**
   * v1 with {@link #EDITS} edits of 1..8 bytes spread over it and {@link #INSERT_BYTES} inserted.
   */
  static byte[] v2(long seed, byte[] v1) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] edited = v1.clone();
    int stride = v1.length / EDITS;
    for (int e = 0; e < EDITS; e++) {
      int at = e * stride + r.nextInt(Math.max(1, stride - 8));
      for (int i = 0, n = 1 + r.nextInt(8); i < n && at + i < edited.length; i++) {
        edited[at + i] ^= (byte) (1 + r.nextInt(255));
      }
    }
    byte[] insert = new byte[INSERT_BYTES];
    fillText(r, insert, 0, insert.length);
    int middle = v1.length / 2;
    byte[] out = new byte[v1.length + insert.length];
    System.arraycopy(edited, 0, out, 0, middle);
    System.arraycopy(insert, 0, out, middle, insert.length);
    System.arraycopy(edited, middle, out, middle + insert.length, v1.length - middle);
    return out;
  }

  private static void fillRandom(SplittableRandom r, byte[] out, int at, int n) {
    byte[] blob = new byte[n];
    r.nextBytes(blob);
    System.arraycopy(blob, 0, out, at, n);
  }

  /** Log format strings and config lines, varied so they compress as real ones do. */
  private static void fillText(SplittableRandom r, byte[] out, int at, int n) {
    int i = 0;
    while (i < n) {
      byte[] line =
          String.format(
                  Locale.ROOT,
                  "%s.%s=%d # %s %08x\n",
                  WORDS[r.nextInt(WORDS.length)],
                  WORDS[r.nextInt(WORDS.length)],
                  r.nextInt(10_000),
                  WORDS[r.nextInt(WORDS.length)],
                  r.nextInt())
              .getBytes(US_ASCII);
      int k = Math.min(line.length, n - i);
      System.arraycopy(line, 0, out, at + i, k);
      i += k;
    }
  }

  /** Packed little-endian records of slowly changing values: a calibration or lookup table. */
  private static void fillTable(SplittableRandom r, byte[] out, int at, int n) {
    int value = r.nextInt(1 << 20);
    for (int i = 0; i < n; i++) {
      if (i % 4 == 0) {
        value += r.nextInt(64) - 16;
      }
      out[at + i] = (byte) (value >>> (8 * (i % 4)));
    }
  }

  private static final String[] WORDS = {
    "uplink", "modem", "sensor", "retry", "timeout", "watchdog", "boot", "flash", "radio", "gpio",
    "i2c", "spi", "uart", "dma", "irq", "buffer", "crc", "firmware", "partition", "heap"
  };
}

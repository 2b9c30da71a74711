package io.edgesync.sim.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The bytes of simulated files: a first version of blocks that compress well (log-like text) and
 * blocks that do not (random bytes), and each later version an edit of the previous one (a few
 * ranges replaced, inserted, deleted, or bytes appended), so that most chunks carry over and the
 * receiver asks for a delta. Stateless; every choice comes from the caller's generator.
 */
final class FileContent {
  /** Later versions stay below this size. */
  static final int MAX_BYTES = 4 << 20;

  private static final int BLOCK_BYTES = 4 << 10;

  private FileContent() {}

  static byte[] first(RandomGenerator r, int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    while (out.size() < size) {
      out.writeBytes(block(r, Math.min(BLOCK_BYTES, size - out.size())));
    }
    return out.toByteArray();
  }

  /** The next version: one to four edits of {@code previous}. */
  static byte[] edit(RandomGenerator r, byte[] previous) {
    byte[] b = previous;
    int edits = 1 + r.nextInt(4);
    for (int i = 0; i < edits; i++) {
      int at = b.length == 0 ? 0 : r.nextInt(b.length);
      int len = 1 + r.nextInt(8 << 10);
      b =
          switch (r.nextInt(4)) {
            case 0 -> splice(b, at, Math.min(len, b.length - at), block(r, len)); // replace
            case 1 -> splice(b, at, 0, block(r, len)); // insert
            case 2 -> splice(b, at, Math.min(len, b.length - at), new byte[0]); // delete
            default -> splice(b, b.length, 0, block(r, len)); // append
          };
    }
    if (b.length == 0) {
      b = block(r, 1 + r.nextInt(BLOCK_BYTES));
    }
    return b.length > MAX_BYTES ? Arrays.copyOf(b, MAX_BYTES) : b;
  }

  private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
    return out;
  }

  private static byte[] block(RandomGenerator r, int len) {
    byte[] out = new byte[len];
    if (r.nextBoolean()) {
      r.nextBytes(out);
      return out;
    }
    StringBuilder sb = new StringBuilder(len + 64);
    while (sb.length() < len) {
      sb.append("t=")
          .append(r.nextInt(1_000_000))
          .append(" sensor=")
          .append(r.nextInt(16))
          .append(" value=")
          .append(r.nextInt(100_000))
          .append(" status=ok\n");
    }
    byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(text, 0, out, 0, len);
    return out;
  }

  static byte[] sha256(byte[] content) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(content);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

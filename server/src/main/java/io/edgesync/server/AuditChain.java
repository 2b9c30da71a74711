package io.edgesync.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The audit log's hash chain: what a record is, the bytes its hash covers, the message a checkpoint
 * signs, and the one line an export writes for it.
 *
 * <p><b>Record hash.</b> {@code hash = SHA-256(encoding)}, where the encoding is, in order: the 16
 * ASCII bytes {@code edgesync-audit-1}; {@code seq} and {@code at_ms} as 8-byte big-endian signed
 * integers; {@code actor}, {@code action}, {@code target} and {@code details} (the canonical JSON
 * text, {@link CanonicalJson}) each as a 4-byte big-endian length followed by that many UTF-8
 * bytes; and the 32-byte {@code prev}, the hash of record {@code seq - 1} (32 zero bytes for record
 * 1). Lengths make the encoding unambiguous; {@code prev} makes it a chain.
 *
 * <p><b>Anchor.</b> A checkpoint (action {@link #CHECKPOINT}) signs with Ed25519 the message: the
 * 16 ASCII bytes {@code edgesync-anchor1}, the anchored record's {@code seq} (8 bytes big-endian)
 * and its 32-byte hash. Its details are {@code {"hash":hex,"key":id,"seq":n,"sig":hex}}, {@code
 * seq} being the record just before it. An export's last line signs the same message for its last
 * record.
 *
 * <p><b>Export line.</b> The canonical JSON of {@code {action, actor, at_ms, details (the object),
 * hash, prev, seq, target}} (hashes in lower-case hex) and a newline; nothing else is accepted, so
 * every byte of a line is significant.
 *
 * <p>Stateless, thread safe.
 */
public final class AuditChain {
  public static final int HASH_BYTES = 32;

  /** The action of a checkpoint record; its actor is {@link #SERVER_ACTOR}. */
  public static final String CHECKPOINT = "audit.checkpoint";

  /** The actor of records the server writes on its own. */
  public static final String SERVER_ACTOR = "$server";

  private static final byte[] RECORD_DOMAIN = ascii("edgesync-audit-1");
  private static final byte[] ANCHOR_DOMAIN = ascii("edgesync-anchor1");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  private AuditChain() {}

  /** One record of the chain, as stored. */
  public record Entry(
      long seq,
      long atMs,
      String actor,
      String action,
      String target,
      String details,
      byte[] prev,
      byte[] hash) {}

  /** The hash of record {@code seq} at {@code prev} (see the class comment for the encoding). */
  public static byte[] hash(
      long seq,
      long atMs,
      String actor,
      String action,
      String target,
      String details,
      byte[] prev) {
    byte[][] texts = {utf8(actor), utf8(action), utf8(target), utf8(details)};
    int size = RECORD_DOMAIN.length + 16 + HASH_BYTES;
    for (byte[] t : texts) {
      size += 4 + t.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).put(RECORD_DOMAIN).putLong(seq).putLong(atMs);
    for (byte[] t : texts) {
      b.putInt(t.length).put(t);
    }
    b.put(prev);
    return sha256(b.array());
  }

  /** The hash {@code e} should have, recomputed from its fields. */
  public static byte[] recompute(Entry e) {
    return hash(e.seq(), e.atMs(), e.actor(), e.action(), e.target(), e.details(), e.prev());
  }

  /** The message a checkpoint or an export's end line signs for record {@code seq}. */
  public static byte[] anchorMessage(long seq, byte[] hash) {
    return ByteBuffer.allocate(ANCHOR_DOMAIN.length + 8 + HASH_BYTES)
        .put(ANCHOR_DOMAIN)
        .putLong(seq)
        .put(hash)
        .array();
  }

  /** The export line of {@code e}, without its newline. */
  public static String line(Entry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("seq", e.seq());
    m.put("at_ms", e.atMs());
    m.put("actor", e.actor());
    m.put("action", e.action());
    m.put("target", e.target());
    m.put("details", parseObject(e.details()));
    m.put("prev", hex(e.prev()));
    m.put("hash", hex(e.hash()));
    return CanonicalJson.write(m);
  }

  /** The JSON object {@code text}; an exception naming the problem if it is not one. */
  static Map<String, Object> parseObject(String text) {
    try {
      Object v = JSON.readValue(text, Object.class);
      if (!(v instanceof Map<?, ?>)) {
        throw new IllegalArgumentException("not a JSON object: " + text);
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) v;
      return m;
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
  }

  static String hex(byte[] b) {
    return HEX.formatHex(b);
  }

  static byte[] unhex(String s) {
    return HEX.parseHex(s);
  }

  /** One digest per thread: looked up once, not for every hash on the writer thread. */
  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("the JDK has no SHA-256", e);
            }
          });

  static byte[] sha256(byte[] data) {
    return SHA256.get().digest(data);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}

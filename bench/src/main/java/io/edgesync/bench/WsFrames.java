package io.edgesync.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * The WebSocket frame format (RFC 6455 section 5.2), client side, for {@link FleetConnection}:
 *
 * <pre>
 *  byte 0: FIN(1) RSV(3, all 0) opcode(4)
 *  byte 1: MASK(1) length(7): 0..125, 126 = a 16-bit length follows, 127 = a 64-bit length follows
 *  [2 or 8 bytes of length, big-endian] [4-byte masking key if MASK] payload
 * </pre>
 *
 * A client masks every frame it sends; a server masks none (a masked one is refused). Stateless
 * except {@link Fragments}.
 */
final class WsFrames {
  static final int OP_CONTINUATION = 0x0;
  static final int OP_BINARY = 0x2;
  static final int OP_CLOSE = 0x8;
  static final int OP_PING = 0x9;
  static final int OP_PONG = 0xA;

  /** One frame read from the server; {@code totalBytes} is its size with the header. */
  record Frame(boolean fin, int opcode, byte[] payload, int totalBytes) {}

  /** A whole message (or a control frame). */
  record Message(int opcode, byte[] payload) {}

  private WsFrames() {}

  /** A masked client frame, FIN set. */
  static byte[] clientFrame(int opcode, byte[] payload, int mask) {
    int n = payload.length;
    int lengthBytes = n < 126 ? 0 : n <= 0xFFFF ? 2 : 8;
    byte[] out = new byte[2 + lengthBytes + 4 + n];
    out[0] = (byte) (0x80 | opcode);
    int i = 2;
    if (lengthBytes == 0) {
      out[1] = (byte) (0x80 | n);
    } else if (lengthBytes == 2) {
      out[1] = (byte) (0x80 | 126);
      out[i++] = (byte) (n >>> 8);
      out[i++] = (byte) n;
    } else {
      out[1] = (byte) (0x80 | 127);
      for (int s = 56; s >= 0; s -= 8) {
        out[i++] = (byte) ((long) n >>> s);
      }
    }
    byte[] key = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
    System.arraycopy(key, 0, out, i, 4);
    i += 4;
    for (int j = 0; j < n; j++) {
      out[i + j] = (byte) (payload[j] ^ key[j & 3]);
    }
    return out;
  }

  /**
   * The frame at the start of {@code buf[0..len)}, or null if it is not all there yet.
   *
   * @throws IOException for a frame a server must not send (masked, reserved bits, too large)
   */
  static Frame parse(byte[] buf, int len, int maxPayloadBytes) throws IOException {
    if (len < 2) {
      return null;
    }
    int b0 = buf[0] & 0xFF;
    int b1 = buf[1] & 0xFF;
    if ((b0 & 0x70) != 0) {
      throw new IOException("a WebSocket frame with reserved bits set: " + Integer.toHexString(b0));
    }
    if ((b1 & 0x80) != 0) {
      throw new IOException("a masked WebSocket frame from the server");
    }
    long n = b1 & 0x7F;
    int header = 2;
    if (n == 126) {
      if (len < 4) {
        return null;
      }
      n = ((buf[2] & 0xFF) << 8) | (buf[3] & 0xFF);
      header = 4;
    } else if (n == 127) {
      if (len < 10) {
        return null;
      }
      n = 0;
      for (int i = 2; i < 10; i++) {
        n = (n << 8) | (buf[i] & 0xFF);
      }
      header = 10;
    }
    if (n < 0 || n > maxPayloadBytes) {
      throw new IOException("a WebSocket frame of " + n + " bytes, over " + maxPayloadBytes);
    }
    if (len < header + n) {
      return null;
    }
    byte[] payload = java.util.Arrays.copyOfRange(buf, header, header + (int) n);
    return new Frame((b0 & 0x80) != 0, b0 & 0x0F, payload, header + (int) n);
  }

  /** "(1001 going away)"-style text of a close frame's status and reason. */
  static String closeStatus(Message close) {
    byte[] p = close.payload();
    if (p.length < 2) {
      return "(no status)";
    }
    int code = ((p[0] & 0xFF) << 8) | (p[1] & 0xFF);
    String reason = new String(p, 2, p.length - 2, java.nio.charset.StandardCharsets.UTF_8);
    return "(" + code + (reason.isEmpty() ? "" : " " + reason) + ")";
  }

  /** Joins a fragmented message; control frames pass straight through. Not thread safe. */
  static final class Fragments {
    private ByteArrayOutputStream parts;
    private int opcode;

    /** The message {@code f} completes, or null while more fragments are due. */
    Message add(Frame f, int maxMessageBytes) throws IOException {
      if (f.opcode() >= OP_CLOSE) {
        return new Message(f.opcode(), f.payload());
      }
      if (f.opcode() != OP_CONTINUATION) {
        if (parts != null) {
          throw new IOException("a new WebSocket message inside a fragmented one");
        }
        if (f.fin()) {
          return new Message(f.opcode(), f.payload());
        }
        parts = new ByteArrayOutputStream();
        opcode = f.opcode();
      } else if (parts == null) {
        throw new IOException("a WebSocket continuation frame without a message");
      }
      parts.write(f.payload());
      if (parts.size() > maxMessageBytes) {
        throw new IOException("a WebSocket message over " + maxMessageBytes + " bytes");
      }
      if (!f.fin()) {
        return null;
      }
      Message m = new Message(opcode, parts.toByteArray());
      parts = null;
      return m;
    }
  }
}

package io.edgesync.agent.internal.mqtt;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A raw MQTT client for tests: writes hand-made packets, reads whole packets back. */
final class RawMqtt implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;

  RawMqtt(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(5_000);
    in = socket.getInputStream();
  }

  void send(byte[]... packets) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] p : packets) {
      all.writeBytes(p);
    }
    socket.getOutputStream().write(all.toByteArray());
    socket.getOutputStream().flush();
  }

  /** The next packet (fixed header included), or null when the server closed the connection. */
  byte[] read() throws IOException {
    int type = in.read();
    if (type < 0) {
      return null;
    }
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(type);
    int len = 0;
    int shift = 0;
    int b;
    do {
      b = in.read();
      if (b < 0) {
        return null;
      }
      p.write(b);
      len |= (b & 0x7F) << shift;
      shift += 7;
    } while ((b & 0x80) != 0);
    p.writeBytes(in.readNBytes(len));
    return p.toByteArray();
  }

  /** Whether the server closed the connection (reads until EOF, at most 5 s). */
  boolean closedByServer() throws IOException {
    try {
      while (true) {
        if (read() == null) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  // ---------------------------------------------------------------- packets

  static byte[] connect(int version, String clientId) {
    return connect(version, clientId, 60);
  }

  static byte[] connect(int version, String clientId, int keepAliveSeconds) {
    ByteArrayOutputStream v = new ByteArrayOutputStream();
    v.writeBytes(str("MQTT"));
    v.write(version);
    v.write(0x02); // clean session
    v.write(keepAliveSeconds >> 8);
    v.write(keepAliveSeconds & 0xFF);
    if (version == 5) {
      v.write(0); // no properties
    }
    v.writeBytes(str(clientId));
    return packet(0x10, v.toByteArray());
  }

  static byte[] publish(int version, int qos, int packetId, String topic, String payload) {
    ByteArrayOutputStream v = new ByteArrayOutputStream();
    v.writeBytes(str(topic));
    if (qos > 0) {
      v.write(packetId >> 8);
      v.write(packetId & 0xFF);
    }
    if (version == 5) {
      v.write(0);
    }
    v.writeBytes(payload.getBytes(StandardCharsets.UTF_8));
    return packet(0x30 | (qos << 1), v.toByteArray());
  }

  static byte[] packet(int firstByte, byte[] body) {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(firstByte);
    int len = body.length;
    do {
      int digit = len & 0x7F;
      len >>>= 7;
      p.write(len > 0 ? digit | 0x80 : digit);
    } while (len > 0);
    p.writeBytes(body);
    return p.toByteArray();
  }

  static byte[] str(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[b.length + 2];
    out[0] = (byte) (b.length >> 8);
    out[1] = (byte) b.length;
    System.arraycopy(b, 0, out, 2, b.length);
    return out;
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }
}

package io.edgesync.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The few MQTT 3.1.1 packets the bench's publishers send (CONNECT, PUBLISH at QoS 1, DISCONNECT),
 * encoded exactly as the OASIS MQTT 3.1.1 standard (2014) says, and the remaining-length varint
 * both ways. Stateless; the incoming side is {@link MqttReader}.
 *
 * <pre>
 * fixed header:  byte 1      type (bits 7-4) | flags (bits 3-0)
 *                byte 2..5   remaining length: 7 bits per byte, least significant group first,
 *                            bit 7 set = another byte follows; 1 to 4 bytes (max 268,435,455)
 * CONNECT   0x10  "MQTT" (u16 length + bytes), level 4, connect flags, keep alive (u16 s),
 *                 client id (u16 length + UTF-8)
 * CONNACK   0x20  length 2: acknowledge flags (bit 0 session present), return code (0 = accepted)
 * PUBLISH   0x32  (QoS 1, DUP 0, RETAIN 0) topic (u16 length + UTF-8), packet id (u16, 1..65535),
 *                 payload: the rest
 * PUBACK    0x40  length 2: packet id
 * PINGRESP  0xD0  length 0
 * DISCONNECT 0xE0 length 0
 * </pre>
 */
final class MqttPackets {
  static final int CONNECT = 1;
  static final int CONNACK = 2;
  static final int PUBLISH = 3;
  static final int PUBACK = 4;
  static final int PINGRESP = 13;
  static final int DISCONNECT = 14;

  /** The largest remaining length four bytes can say (spec 2.2.3). */
  static final int MAX_REMAINING_LENGTH = 268_435_455;

  static final int MAX_PACKET_ID = 65_535;
  static final int MAX_STRING_BYTES = 65_535;

  /** Protocol level 4 is MQTT 3.1.1 (spec 3.1.2.2). */
  static final byte PROTOCOL_LEVEL = 4;

  static final byte CLEAN_SESSION = 0x02;

  private static final byte[] PROTOCOL_NAME = {0, 4, 'M', 'Q', 'T', 'T'};

  private MqttPackets() {}

  /** Bytes the remaining-length field of {@code length} takes: 1 to 4. */
  static int remainingLengthBytes(int length) {
    checkRemainingLength(length);
    if (length < 128) {
      return 1;
    }
    if (length < 16_384) {
      return 2;
    }
    return length < 2_097_152 ? 3 : 4;
  }

  /** Writes {@code length} as the spec's variable-length integer (its 2.2.3 algorithm). */
  static void putRemainingLength(ByteBuffer out, int length) {
    checkRemainingLength(length);
    int x = length;
    do {
      int digit = x % 128;
      x /= 128;
      out.put((byte) (x > 0 ? digit | 0x80 : digit));
    } while (x > 0);
  }

  private static void checkRemainingLength(int length) {
    if (length < 0 || length > MAX_REMAINING_LENGTH) {
      throw new IllegalArgumentException(
          "remaining length " + length + " outside 0.." + MAX_REMAINING_LENGTH);
    }
  }

  /** A CONNECT of protocol level 4 with a clean session and no will, user or password. */
  static byte[] connect(String clientId, int keepAliveS) {
    byte[] id = utf8(clientId, "client id");
    if (keepAliveS < 0 || keepAliveS > 65_535) {
      throw new IllegalArgumentException("keep alive " + keepAliveS + " s outside 0..65535");
    }
    int remaining = PROTOCOL_NAME.length + 1 + 1 + 2 + 2 + id.length;
    ByteBuffer b = ByteBuffer.allocate(1 + remainingLengthBytes(remaining) + remaining);
    b.put((byte) (CONNECT << 4));
    putRemainingLength(b, remaining);
    b.put(PROTOCOL_NAME).put(PROTOCOL_LEVEL).put(CLEAN_SESSION).putShort((short) keepAliveS);
    b.putShort((short) id.length).put(id);
    return b.array();
  }

  /** Bytes {@link #putPublishQos1} writes for this topic and payload. */
  static int publishQos1Bytes(int topicBytes, int payloadBytes) {
    int remaining = 2 + topicBytes + 2 + payloadBytes;
    return 1 + remainingLengthBytes(remaining) + remaining;
  }

  /**
   * Appends a PUBLISH at QoS 1 (DUP 0, RETAIN 0). {@code topic} is the topic's UTF-8 bytes, already
   * checked by {@link #utf8}.
   */
  static void putPublishQos1(ByteBuffer out, byte[] topic, int packetId, byte[] payload) {
    checkPacketId(packetId);
    int remaining = 2 + topic.length + 2 + payload.length;
    out.put((byte) (PUBLISH << 4 | 1 << 1));
    putRemainingLength(out, remaining);
    out.putShort((short) topic.length).put(topic).putShort((short) packetId).put(payload);
  }

  static byte[] disconnect() {
    return new byte[] {(byte) (DISCONNECT << 4), 0};
  }

  /** A packet id is 1..65535; 0 is not allowed (spec 2.3.1). */
  static void checkPacketId(int packetId) {
    if (packetId < 1 || packetId > MAX_PACKET_ID) {
      throw new IllegalArgumentException("packet id " + packetId + " outside 1.." + MAX_PACKET_ID);
    }
  }

  /** The UTF-8 bytes of a string field, at most 65,535 of them (spec 1.5.3). */
  static byte[] utf8(String s, String what) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException(
          what + " is " + b.length + " bytes of UTF-8; at most " + MAX_STRING_BYTES);
    }
    return b;
  }
}

package io.edgesync.bench;

import java.nio.ByteBuffer;

/**
 * Decodes what an MQTT 3.1.1 broker sends a publisher (CONNACK, PUBACK, PINGRESP) from bytes as
 * they arrive, whole packets only: a packet cut across reads waits in the buffer for its rest. Any
 * other packet, a malformed length or wrong flags is a {@link MqttProtocolException} with an exact
 * message. Not thread safe: one reader per connection, used by the thread that reads it.
 */
final class MqttReader {
  /** What the reader found. */
  interface Callback {
    void connack(boolean sessionPresent, int returnCode);

    void puback(int packetId);
  }

  /** A broker sent something a QoS 1 publisher cannot accept. */
  static final class MqttProtocolException extends Exception {
    MqttProtocolException(String message) {
      super(message);
    }
  }

  /** Larger than anything a broker sends a publisher; a longer length means a broken stream. */
  static final int MAX_PACKET_BYTES = 1024;

  private final Callback callback;

  MqttReader(Callback callback) {
    this.callback = callback;
  }

  /**
   * Consumes every whole packet in {@code in} (read mode), leaving the start of an incomplete one
   * at its position; the caller compacts.
   */
  void read(ByteBuffer in) throws MqttProtocolException {
    while (in.hasRemaining()) {
      int start = in.position();
      int header = in.get() & 0xFF;
      int length = remainingLength(in);
      if (length > MAX_PACKET_BYTES) {
        throw new MqttProtocolException(
            "packet type "
                + (header >>> 4)
                + " of "
                + length
                + " bytes; at most "
                + MAX_PACKET_BYTES);
      }
      if (length < 0 || in.remaining() < length) {
        in.position(start); // wait for the rest
        return;
      }
      packet(header, length, in);
    }
  }

  /**
   * The remaining length at the buffer's position, or -1 when its bytes have not all arrived
   * (position then undefined; the caller rewinds).
   */
  static int remainingLength(ByteBuffer in) throws MqttProtocolException {
    int value = 0;
    int multiplier = 1;
    for (int i = 0; i < 4; i++) {
      if (!in.hasRemaining()) {
        return -1;
      }
      int b = in.get() & 0xFF;
      value += (b & 0x7F) * multiplier;
      if ((b & 0x80) == 0) {
        return value;
      }
      multiplier *= 128;
    }
    throw new MqttProtocolException("malformed remaining length: a fifth length byte follows");
  }

  private void packet(int header, int length, ByteBuffer in) throws MqttProtocolException {
    int type = header >>> 4;
    int flags = header & 0x0F;
    if (flags != 0) {
      throw new MqttProtocolException("packet type " + type + " with flags " + flags + "; want 0");
    }
    switch (type) {
      case MqttPackets.CONNACK -> {
        expectLength("CONNACK", length, 2);
        int ackFlags = in.get() & 0xFF;
        if ((ackFlags & 0xFE) != 0) {
          throw new MqttProtocolException(
              "CONNACK acknowledge flags " + ackFlags + "; want 0 or 1");
        }
        callback.connack(ackFlags == 1, in.get() & 0xFF);
      }
      case MqttPackets.PUBACK -> {
        expectLength("PUBACK", length, 2);
        int id = in.getShort() & 0xFFFF;
        if (id == 0) {
          throw new MqttProtocolException("PUBACK of packet id 0");
        }
        callback.puback(id);
      }
      case MqttPackets.PINGRESP -> expectLength("PINGRESP", length, 0);
      default ->
          throw new MqttProtocolException(
              "unexpected packet type " + type + " (" + length + " bytes) for a publisher");
    }
  }

  private static void expectLength(String name, int length, int want) throws MqttProtocolException {
    if (length != want) {
      throw new MqttProtocolException(
          name + " with remaining length " + length + "; MQTT 3.1.1 says " + want);
    }
  }
}

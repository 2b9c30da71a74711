package io.edgesync.bench;

import java.util.Arrays;

/**
 * One connection's QoS 1 messages awaiting their PUBACK: packet ids 1..65535 handed out in order,
 * wrapping after 65535 and skipping ids still in flight (MQTT 3.1.1 section 2.3.1: an id is
 * reusable only once its PUBACK arrived), with each message's send time. Not thread safe: owned by
 * the load's loop thread.
 */
final class MqttInflight {
  private static final long FREE = Long.MIN_VALUE;

  private final long[] sentNanos = new long[MqttPackets.MAX_PACKET_ID + 1];
  private final int max;
  private int last; // the id handed out last, 0 before the first
  private int count;

  /** At most {@code max} (1..65535) messages in flight at once. */
  MqttInflight(int max) {
    if (max < 1 || max > MqttPackets.MAX_PACKET_ID) {
      throw new IllegalArgumentException(
          "in-flight window " + max + " outside 1.." + MqttPackets.MAX_PACKET_ID);
    }
    this.max = max;
    Arrays.fill(sentNanos, FREE);
  }

  boolean full() {
    return count >= max;
  }

  int count() {
    return count;
  }

  /** The next free id after the last one handed out, now in flight since {@code nowNanos}. */
  int acquire(long nowNanos) {
    if (full()) {
      throw new IllegalStateException(count + " messages in flight, the window is " + max);
    }
    int id = last;
    do {
      id = id == MqttPackets.MAX_PACKET_ID ? 1 : id + 1;
    } while (sentNanos[id] != FREE);
    sentNanos[id] = nowNanos;
    last = id;
    count++;
    return id;
  }

  /**
   * Frees the id a PUBACK named; returns when its message was sent. A PUBACK for an id not in
   * flight is the broker's error (or a duplicate) and fails the run.
   */
  long release(int packetId) {
    MqttPackets.checkPacketId(packetId);
    long sent = sentNanos[packetId];
    if (sent == FREE) {
      throw new IllegalStateException(
          "PUBACK for packet id " + packetId + ", which is not in flight");
    }
    sentNanos[packetId] = FREE;
    count--;
    return sent;
  }
}

package io.edgesync.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Locale;

/**
 * One publisher of {@link MqttLoad}: its connection, its window of messages in flight, its send and
 * receive buffers and its pre-generated readings. Not thread safe: used by the load's thread.
 */
final class MqttClient {
  /** Readings pre-generated per sensor; the client cycles through them. */
  static final int SECONDS_PER_SENSOR = 256;

  final String name;
  final MqttInflight inflight;
  long published;
  long payloadBytes;

  private final SocketChannel ch;
  private final MqttLoad load;
  private final MqttReader reader;
  private final byte[][] topics;
  private final byte[][] payloads;
  private final ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
  private final ByteBuffer out;
  private final int maxPublishBytes;
  private int next;
  private boolean connected;
  private SelectionKey key;
  private long nowNanos;

  MqttClient(String name, SocketChannel ch, int window, int sensors, MqttLoad load) {
    this.name = name;
    this.ch = ch;
    this.load = load;
    this.inflight = new MqttInflight(window);
    this.topics = new byte[sensors][];
    for (int i = 0; i < sensors; i++) {
      topics[i] =
          MqttPackets.utf8(String.format(Locale.ROOT, "bench/%s/bme280-%02d", name, i), "topic");
    }
    this.payloads = readings(name, sensors);
    int largest = 0;
    for (byte[] p : payloads) {
      largest = Math.max(largest, p.length);
    }
    this.maxPublishBytes = MqttPackets.publishQos1Bytes(topics[sensors - 1].length, largest);
    this.out = ByteBuffer.allocateDirect(Math.max(4096, (window + 1) * maxPublishBytes));
    this.reader = new MqttReader(new Acks());
  }

  /** Readings of the client's sensors, second by second, sensor by sensor (the topic order). */
  private static byte[][] readings(String name, int sensors) {
    TelemetryData.Fleet fleet =
        new TelemetryData.Fleet(name.hashCode(), sensors, 1_796_594_400_000L, "gw-" + name);
    byte[][] p = new byte[sensors * SECONDS_PER_SENSOR][];
    for (int k = 0; k < SECONDS_PER_SENSOR; k++) {
      List<byte[]> second = fleet.second(k);
      for (int i = 0; i < sensors; i++) {
        p[k * sensors + i] = second.get(i);
      }
    }
    return p;
  }

  /** Registers the connection for reads; call once, before the first {@link #send}. */
  void register(Selector selector) throws IOException {
    key = ch.register(selector, SelectionKey.OP_READ, this);
  }

  boolean connected() {
    return connected;
  }

  /** Adds PUBLISHes until the window is full, each in flight from {@code now}. */
  void fill(long now) {
    while (!inflight.full() && out.remaining() >= maxPublishBytes) {
      int i = next;
      next = next + 1 == payloads.length ? 0 : next + 1;
      byte[] payload = payloads[i];
      MqttPackets.putPublishQos1(out, topics[i % topics.length], inflight.acquire(now), payload);
      published++;
      payloadBytes += payload.length;
    }
  }

  /**
   * Queues a whole packet and writes what the socket takes; false (nothing queued) when the send
   * buffer has no room, which happens only after a drain that gave up on a broker that stopped
   * reading.
   */
  boolean send(byte[] packet) throws IOException {
    if (out.remaining() < packet.length) {
      return false;
    }
    out.put(packet);
    flush();
    return true;
  }

  /** Writes what the socket takes; asks the selector for writability while some is left. */
  void flush() throws IOException {
    if (out.position() == 0) {
      return;
    }
    out.flip();
    ch.write(out);
    out.compact();
    // Write interest only while bytes wait, else the selector would wake at once every time.
    int ops =
        out.position() > 0 ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
    if (key.interestOps() != ops) {
      key.interestOps(ops);
    }
  }

  void readAvailable() throws Exception {
    nowNanos = System.nanoTime();
    int n = ch.read(in);
    if (n < 0) {
      throw new IOException(
          String.format(
              Locale.ROOT,
              "the broker closed client %s's connection (%,d published, %d in flight)",
              name,
              published,
              inflight.count()));
    }
    in.flip();
    try {
      reader.read(in);
    } catch (MqttReader.MqttProtocolException e) {
      throw new IOException("client " + name + ": " + e.getMessage(), e);
    }
    in.compact();
  }

  void close() {
    try {
      ch.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  private final class Acks implements MqttReader.Callback {
    @Override
    public void connack(boolean sessionPresent, int returnCode) {
      if (returnCode != 0) {
        throw new IllegalStateException(
            "client " + name + ": the broker refused CONNECT with return code " + returnCode);
      }
      connected = true;
    }

    @Override
    public void puback(int packetId) {
      load.acked(inflight.release(packetId), nowNanos);
    }
  }
}

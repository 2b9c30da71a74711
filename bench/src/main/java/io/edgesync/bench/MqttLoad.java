package io.edgesync.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The MQTT load: {@code clients} MQTT 3.1.1 publishers, each on its own TCP connection, each
 * keeping at most {@code window} QoS 1 PUBLISHes awaiting their PUBACK, for a warm-up and then a
 * measured window; then no new messages, and the run waits until every message in flight is
 * acknowledged (the drain) before each client sends DISCONNECT. The same load runs against every
 * broker.
 *
 * <p>One thread drives all connections through a selector, so that the generator costs the machine
 * little CPU: after reading PUBACKs it refills the window with PUBLISHes written together in one
 * write. A message's latency runs from the moment it is put in the client's send buffer (the moment
 * a client library's publish call would return) to the moment its PUBACK is read, so time spent in
 * the client's own buffer counts against the broker, the same for both brokers. Payloads are
 * pre-generated {@link TelemetryData} readings (about 150 bytes of JSON; topic {@code
 * bench/<client>/<sensor>}), so making JSON takes no time in the measured window.
 *
 * <p>Thread safety: {@link #run} confines everything to the calling thread.
 */
final class MqttLoad {
  /** What the load does. */
  record Settings(
      int clients,
      int window,
      int sensorsPerClient,
      double warmupS,
      double seconds,
      double drainTimeoutS,
      double connectTimeoutS) {
    Settings {
      if (clients < 1 || sensorsPerClient < 1 || seconds <= 0 || warmupS < 0) {
        throw new IllegalArgumentException(
            "--mqtt-clients and --mqtt-sensors must be ≥ 1, --mqtt-seconds > 0, --mqtt-warmup ≥ 0");
      }
      new MqttInflight(window); // checks 1..65535
    }

    String describe() {
      return String.format(
          Locale.ROOT,
          "%d clients × window %d, QoS 1, %d sensors (topics) per client; warm-up %.0f s,"
              + " measured %.0f s",
          clients,
          window,
          sensorsPerClient,
          warmupS,
          seconds);
    }
  }

  /** Told when the measured window starts and ends (on the load's thread). */
  interface Window {
    void started();

    void ended();
  }

  /**
   * One run: {@code acked} PUBACKs read in the measured window of {@code seconds}; {@code
   * published}/{@code pubacked} over the whole run (warm-up and drain too); {@code unacked} still
   * in flight when the drain gave up (0 normally); the generator's own CPU in cores over the
   * window.
   */
  record Result(
      long acked,
      double seconds,
      Stats.Latency latency,
      long published,
      long pubacked,
      long unacked,
      String generatorCores,
      long payloadBytes) {
    double rate() {
      return acked / seconds;
    }
  }

  private enum Phase {
    WARMUP,
    MEASURE,
    DRAIN
  }

  private final Settings s;
  private final List<MqttClient> clients = new ArrayList<>();
  private final Selector selector;
  private Phase phase = Phase.WARMUP;
  private long[] samples = new long[1 << 16];
  private int sampleCount;
  private long ackedInWindow;
  private long pubacked;

  private MqttLoad(Settings s) throws IOException {
    this.s = s;
    this.selector = Selector.open();
  }

  /** Runs the load against the broker at {@code host:port}. */
  static Result run(String host, int port, Settings s, Window window) throws Exception {
    MqttLoad load = new MqttLoad(s);
    try {
      load.connect(new InetSocketAddress(host, port));
      return load.drive(window);
    } finally {
      load.close();
    }
  }

  private void connect(InetSocketAddress address) throws Exception {
    for (int i = 0; i < s.clients(); i++) {
      SocketChannel ch = SocketChannel.open(address);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.configureBlocking(false);
      MqttClient c =
          new MqttClient(
              String.format(Locale.ROOT, "c%02d", i), ch, s.window(), s.sensorsPerClient(), this);
      c.register(selector);
      clients.add(c);
      c.send(MqttPackets.connect("bench-" + c.name, 60));
    }
    long deadline = System.nanoTime() + (long) (s.connectTimeoutS() * 1e9);
    while (!clients.stream().allMatch(MqttClient::connected)) {
      if (System.nanoTime() > deadline) {
        throw new IOException(
            "no CONNACK from the broker within " + s.connectTimeoutS() + " s for every client");
      }
      pump(System.nanoTime(), 10);
    }
  }

  private Result drive(Window window) throws Exception {
    long t0 = System.nanoTime();
    long measureAt = t0 + (long) (s.warmupS() * 1e9);
    long endAt = measureAt + (long) (s.seconds() * 1e9);
    long windowStart = 0;
    long windowEnd = 0;
    long cpu0 = 0;
    long cpu1 = 0;
    long drainDeadline = Long.MAX_VALUE;
    while (true) {
      long now = System.nanoTime();
      if (phase == Phase.WARMUP && now >= measureAt) {
        phase = Phase.MEASURE;
        window.started();
        cpu0 = Stats.processCpuNanos();
        windowStart = System.nanoTime();
      } else if (phase == Phase.MEASURE && now >= endAt) {
        windowEnd = System.nanoTime();
        cpu1 = Stats.processCpuNanos();
        window.ended();
        phase = Phase.DRAIN;
        drainDeadline = windowEnd + (long) (s.drainTimeoutS() * 1e9);
      }
      if (phase == Phase.DRAIN && (inFlight() == 0 || now > drainDeadline)) {
        break;
      }
      pump(now, 1);
    }
    long published = 0;
    long payloadBytes = 0;
    for (MqttClient c : clients) {
      c.send(MqttPackets.disconnect());
      published += c.published;
      payloadBytes += c.payloadBytes;
    }
    return new Result(
        ackedInWindow,
        (windowEnd - windowStart) / 1e9,
        Stats.Latency.of(samples, sampleCount),
        published,
        pubacked,
        inFlight(),
        Stats.coresBusy(cpu0, cpu1, windowEnd - windowStart),
        payloadBytes);
  }

  /** Fills every window (unless draining), writes, waits up to {@code waitMs} and reads. */
  private void pump(long now, long waitMs) throws Exception {
    for (MqttClient c : clients) {
      if (phase != Phase.DRAIN && c.connected()) {
        c.fill(now);
      }
      c.flush();
    }
    if (selector.select(waitMs) == 0) {
      return;
    }
    for (SelectionKey k : selector.selectedKeys()) {
      MqttClient c = (MqttClient) k.attachment();
      if (k.isReadable()) {
        c.readAvailable();
      }
      if (k.isValid() && k.isWritable()) {
        c.flush();
      }
    }
    selector.selectedKeys().clear();
  }

  /** A PUBACK arrived for a message sent at {@code sentNanos}. */
  void acked(long sentNanos, long nowNanos) {
    pubacked++;
    if (phase != Phase.MEASURE) {
      return;
    }
    ackedInWindow++;
    if (sampleCount == samples.length) {
      samples = java.util.Arrays.copyOf(samples, samples.length * 2);
    }
    samples[sampleCount++] = nowNanos - sentNanos;
  }

  private long inFlight() {
    long n = 0;
    for (MqttClient c : clients) {
      n += c.inflight.count();
    }
    return n;
  }

  private void close() {
    for (MqttClient c : clients) {
      c.close();
    }
    try {
      selector.close();
    } catch (IOException e) {
      // nothing held
    }
  }
}

package io.edgesync.bench;

import io.edgesync.protocol.Record;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A seeded, realistic telemetry stream of one environmental sensor gateway: one JSON record per
 * second with the device id, the sensor type, an epoch-millisecond timestamp, temperature, humidity
 * and pressure (a daily cycle, a slow random drift and Gaussian sensor noise, printed as a JSON
 * serializer prints doubles rounded to 2 decimals: shortest form, so 21.4 and 21, not 21.40) and a
 * status that is nearly always "ok". About 150 bytes per record.
 *
 * <p>The agent stamps each record's origin time when it is appended, 0–2 ms after the reading's
 * timestamp. {@link #entropyBitsPerRecord()} is the information the generator puts into each record
 * beyond what is predictable: a lower bound for any codec.
 */
final class TelemetryData {
  static final double TEMPERATURE_NOISE = 0.1;
  static final double HUMIDITY_NOISE = 0.3;
  static final double PRESSURE_NOISE = 0.1;
  static final double RESOLUTION = 0.01;
  static final double[] STATUS_P = {0.995, 0.004, 0.001};
  static final String[] STATUS = {"ok", "warn", "fault"};
  static final double[] JITTER_P = {0.6, 0.3, 0.1};

  private TelemetryData() {}

  /** {@code n} records of device {@code device}, starting at {@code startMs}, sequences from 1. */
  static List<Record> generate(long seed, int n, long startMs, String device) {
    Sensor sensor =
        new Sensor(seed, "{\"device_id\":\"" + device + "\",\"sensor_type\":\"bme280\"", 0);
    List<Record> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long ts = startMs + i * 1000L;
      byte[] json = sensor.reading(ts);
      out.add(new Record(i + 1, ts + sensor.jitterMs(), json));
    }
    return out;
  }

  /**
   * One BME280-like sensor: its own seeded noise, drift and status; {@link #reading} then {@link
   * #jitterMs} per second, in that order (the order of the random draws is the data).
   */
  static final class Sensor {
    private final Random r;
    private final String prefix;
    private final double offset;
    private final StringBuilder b = new StringBuilder(192);
    private double driftT;
    private double driftH;
    private double driftP;

    /**
     * @param prefix the JSON up to (not including) the {@code ts} field, e.g. {@code
     *     {"device_id":"gw","sensor_type":"bme280"}
     * @param offset added to temperature and pressure, subtracted from humidity: sensors in other
     *     rooms
     */
    Sensor(long seed, String prefix, double offset) {
      this.r = new Random(seed);
      this.prefix = prefix;
      this.offset = offset;
    }

    byte[] reading(long ts) {
      double day = 2 * Math.PI * (ts % 86_400_000L) / 86_400_000.0;
      driftT += r.nextGaussian() * 0.002;
      driftH += r.nextGaussian() * 0.005;
      driftP += r.nextGaussian() * 0.002;
      double t =
          21.5 + offset + 2.5 * Math.sin(day) + driftT + r.nextGaussian() * TEMPERATURE_NOISE;
      double h = 45 - offset - 8 * Math.sin(day) + driftH + r.nextGaussian() * HUMIDITY_NOISE;
      double p =
          1013.25 + offset + 1.5 * Math.sin(day / 2) + driftP + r.nextGaussian() * PRESSURE_NOISE;
      String status = STATUS[pick(r, STATUS_P)];
      b.setLength(0);
      b.append(prefix)
          .append(",\"ts\":")
          .append(ts)
          .append(",\"temperature_c\":")
          .append(decimal2(t))
          .append(",\"humidity_pct\":")
          .append(decimal2(h))
          .append(",\"pressure_hpa\":")
          .append(decimal2(p))
          .append(",\"status\":\"")
          .append(status)
          .append("\"}");
      return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** How long after the reading the agent accepted it: 0, 1 or 2 ms. */
    int jitterMs() {
      return pick(r, JITTER_P);
    }
  }

  /**
   * A gateway with {@code sensors} sensors read once a second, one reading each (sensor id {@code
   * bme280-00} ..), as the catch-up benchmark queues them: second {@code k} is {@link #second}.
   */
  static final class Fleet {
    final Sensor[] sensors;
    final long startMs;

    Fleet(long seed, int sensors, long startMs, String device) {
      this.sensors = new Sensor[sensors];
      this.startMs = startMs;
      for (int i = 0; i < sensors; i++) {
        this.sensors[i] =
            new Sensor(
                seed * 1_000 + i,
                String.format(
                    Locale.ROOT, "{\"device_id\":\"%s\",\"sensor_id\":\"bme280-%02d\"", device, i),
                (i - sensors / 2) * 0.7);
      }
    }

    /** The readings of second {@code k} (call with k = 0, 1, 2, ... in order). */
    List<byte[]> second(long k) {
      long ts = startMs + k * 1000L;
      List<byte[]> out = new ArrayList<>(sensors.length);
      for (Sensor s : sensors) {
        out.add(s.reading(ts));
        s.jitterMs(); // keeps each sensor's draws as in a single-sensor stream
      }
      return out;
    }
  }

  /** Probability that a reading arrives late (a retry on the radio link), and by up to how long. */
  static final double LATE_P = 0.02;

  static final int LATE_MAX_MS = 50;

  /**
   * {@code n} readings of {@code nodes} sensor nodes behind one gateway, in the order the gateway
   * receives them (sequences from 1). Node {@code i} ({@code "node_id":"node-007"}) is a sensor of
   * the kind above with its own seed and room offset; it reads once a second at its own phase
   * (0–999 ms into the second), and its reading reaches the gateway 0–2 ms later (the origin time,
   * as in {@link #generate}), or with probability {@value #LATE_P} up to {@value #LATE_MAX_MS} ms
   * later still. Readings are appended in arrival order (ties by node), so the nodes interleave
   * nearly, but not exactly, round robin. About 150 bytes of JSON per reading.
   */
  static List<Record> interleaved(long seed, int nodes, int n, long startMs, String gateway) {
    Random order = new Random(seed * 7_919 + nodes);
    Sensor[] sensors = new Sensor[nodes];
    int[] phase = new int[nodes];
    for (int i = 0; i < nodes; i++) {
      sensors[i] =
          new Sensor(
              seed * 100_003 + i,
              String.format(
                  Locale.ROOT, "{\"device_id\":\"%s\",\"node_id\":\"node-%03d\"", gateway, i),
              (i - nodes / 2) * 0.07);
      phase[i] = order.nextInt(1000);
    }
    // Readings of second k arrive at or after startMs + k s: emit what arrived before then.
    java.util.PriorityQueue<long[]> pending =
        new java.util.PriorityQueue<>(
            (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    List<byte[]> payloads = new ArrayList<>();
    List<Record> out = new ArrayList<>(n);
    for (long k = 0; out.size() < n; k++) {
      long secondStart = startMs + k * 1000L;
      while (!pending.isEmpty() && pending.peek()[0] < secondStart && out.size() < n) {
        long[] e = pending.poll();
        out.add(new Record(out.size() + 1, e[0], payloads.get((int) e[2])));
      }
      for (int i = 0; i < nodes; i++) {
        long ts = secondStart + phase[i];
        byte[] json = sensors[i].reading(ts);
        long arrival = ts + sensors[i].jitterMs();
        if (order.nextDouble() < LATE_P) {
          arrival += 1 + order.nextInt(LATE_MAX_MS);
        }
        payloads.add(json);
        pending.add(new long[] {arrival, i, payloads.size() - 1});
      }
    }
    return out;
  }

  private static int pick(Random r, double[] p) {
    double u = r.nextDouble();
    for (int i = 0; i < p.length - 1; i++) {
      if (u < p[i]) {
        return i;
      }
      u -= p[i];
    }
    return p.length - 1;
  }

  static String decimal2(double v) {
    return BigDecimal.valueOf(Math.round(v * 100), 2).stripTrailingZeros().toPlainString();
  }

  /**
   * Bits of unpredictable information per record: Gaussian noise quantized to the printed
   * resolution (log2(sigma * sqrt(2 pi e) / resolution) each), the status, the origin jitter. The
   * slow cycles and drift add a negligible amount.
   */
  static double entropyBitsPerRecord() {
    return payloadEntropyBitsPerRecord() + entropy(JITTER_P);
  }

  static double payloadEntropyBitsPerRecord() {
    double gauss = Math.sqrt(2 * Math.PI * Math.E);
    double bits = 0;
    for (double sigma : new double[] {TEMPERATURE_NOISE, HUMIDITY_NOISE, PRESSURE_NOISE}) {
      bits += log2(sigma * gauss / RESOLUTION);
    }
    return bits + entropy(STATUS_P);
  }

  private static double entropy(double[] p) {
    double h = 0;
    for (double x : p) {
      h -= x * log2(x);
    }
    return h;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}

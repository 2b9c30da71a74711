package io.edgesync.bench;

import java.nio.charset.StandardCharsets;

/** Sensor-reading JSON records of a fixed size (150 bytes by default), made fresh per record. */
final class Payloads {
  private final int size;
  private final String device;
  private final int sensor;
  private long n;

  Payloads(int size, int thread) {
    this.size = size;
    this.device = "gw-" + (1000 + thread);
    this.sensor = thread;
  }

  byte[] next() {
    long i = n++;
    long ts = System.currentTimeMillis();
    StringBuilder b = new StringBuilder(size + 16);
    b.append("{\"device\":\"")
        .append(device)
        .append("\",\"sensor\":\"temp-")
        .append(sensor)
        .append("\",\"seq\":")
        .append(i)
        .append(",\"ts\":")
        .append(ts)
        .append(",\"value\":")
        .append(20 + (i % 1000) / 100.0)
        .append(",\"unit\":\"C\",\"status\":\"ok\",\"pad\":\"");
    while (b.length() < size - 2) {
      b.append('x');
    }
    b.append("\"}");
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }
}

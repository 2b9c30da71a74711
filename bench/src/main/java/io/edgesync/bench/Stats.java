package io.edgesync.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;

/** Percentiles from a sorted sample array, CPU time, formatting. */
final class Stats {
  private Stats() {}

  /** Latency summary of {@code count} samples (nanoseconds); sorts the array's prefix. */
  record Latency(
      long count, double p50Ms, double p90Ms, double p99Ms, double p999Ms, double maxMs) {
    static Latency of(long[] samples, int count) {
      if (count == 0) {
        return new Latency(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
      }
      Arrays.sort(samples, 0, count);
      return new Latency(
          count,
          ms(pick(samples, count, 0.50)),
          ms(pick(samples, count, 0.90)),
          ms(pick(samples, count, 0.99)),
          ms(pick(samples, count, 0.999)),
          ms(samples[count - 1]));
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "p50 %s ms, p90 %s ms, p99 %s ms, p99.9 %s ms, max %s ms (%,d samples)",
          num(p50Ms),
          num(p90Ms),
          num(p99Ms),
          num(p999Ms),
          num(maxMs),
          count);
    }
  }

  /** Nearest-rank percentile of a sorted prefix. */
  static long pick(long[] sorted, int count, double q) {
    int rank = (int) Math.ceil(q * count);
    return sorted[Math.max(0, Math.min(count - 1, rank - 1))];
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  static String num(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  static String rate(double perSecond) {
    return String.format(Locale.ROOT, "%,.0f", perSecond);
  }

  /** CPU time of this process in nanoseconds, or -1 if the JVM does not say. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** Cores busy on average between two CPU-time readings {@code wallNanos} apart. */
  static String coresBusy(long cpuBefore, long cpuAfter, long wallNanos) {
    if (cpuBefore < 0 || cpuAfter < 0) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.2f", (cpuAfter - cpuBefore) / (double) wallNanos);
  }
}

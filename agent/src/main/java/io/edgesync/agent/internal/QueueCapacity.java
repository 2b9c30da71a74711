package io.edgesync.agent.internal;

import io.edgesync.agent.AgentStatus;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The outbox's capacity in time: how long an outage the queue holds at a given append rate before
 * its count bound ({@code sync.offline.queue_max_size}) or its byte bound ({@code queue.max_bytes})
 * is reached, compared with {@code max_offline_hours}. Both bounds count all streams together, as
 * the outbox does. Pure functions of their arguments.
 */
public final class QueueCapacity {
  static final String COUNT_BOUND = "queue_max_size";
  static final String BYTE_BOUND = "max_bytes";

  /** Durations at or above this are shown as "over 10 years". */
  private static final long FOREVER_MS = 3650L * 86_400_000;

  private QueueCapacity() {}

  /** The view, and the warning when the queue fills before {@code max_offline_hours} (or null). */
  public record Estimate(AgentStatus.CapacityView view, String warning) {}

  /**
   * @param recordsPerSec the measured append rate, -1 when not measured yet
   * @param bytesPerSec payload bytes per second, -1 when not measured yet
   * @param queuedRecords what is queued now (for {@code fullInMs})
   */
  public static Estimate estimate(
      OutboxLimits limits,
      double recordsPerSec,
      double bytesPerSec,
      long queuedRecords,
      long queuedBytes) {
    double maxOfflineHours = limits.maxRecordAgeMs() / 3_600_000.0;
    if (recordsPerSec < 0 || bytesPerSec < 0 || (recordsPerSec == 0 && bytesPerSec == 0)) {
      String why =
          recordsPerSec < 0
              ? "append rate not measured yet (it takes a minute of appends)"
              : "no records appended lately";
      return new Estimate(
          new AgentStatus.CapacityView(
              recordsPerSec,
              bytesPerSec,
              limits.maxQueueRecords(),
              limits.maxQueueBytes(),
              maxOfflineHours,
              -1,
              null,
              -1,
              why + "; " + bounds(limits)),
          null);
    }
    double byCountMs = msToFill(limits.maxQueueRecords(), recordsPerSec);
    double byBytesMs = msToFill(limits.maxQueueBytes(), bytesPerSec);
    boolean countFirst = byCountMs <= byBytesMs;
    long holdsMs = clampMs(Math.min(byCountMs, byBytesMs));
    long fullInMs =
        clampMs(
            Math.min(
                msToFill(limits.maxQueueRecords() - queuedRecords, recordsPerSec),
                msToFill(limits.maxQueueBytes() - queuedBytes, bytesPerSec)));
    String bound =
        countFirst
            ? COUNT_BOUND + " " + limits.maxQueueRecords()
            : BYTE_BOUND + " " + limits.maxQueueBytes();
    String summary =
        String.format(
            Locale.ROOT,
            "queue holds %s at %s records/s, %s/s (%s is reached first); max_offline_hours is %s",
            duration(holdsMs),
            number(recordsPerSec),
            bytes(bytesPerSec),
            bound,
            number(maxOfflineHours));
    AgentStatus.CapacityView view =
        new AgentStatus.CapacityView(
            recordsPerSec,
            bytesPerSec,
            limits.maxQueueRecords(),
            limits.maxQueueBytes(),
            maxOfflineHours,
            holdsMs,
            countFirst ? COUNT_BOUND : BYTE_BOUND,
            fullInMs,
            summary);
    String warning =
        holdsMs < limits.maxRecordAgeMs()
            ? warning(limits, summary, holdsMs, recordsPerSec, bytesPerSec)
            : null;
    return new Estimate(view, warning);
  }

  /**
   * The bounds and the append rates up to which they last {@code max_offline_hours}: what can be
   * said before any rate is measured (the agent logs it at start).
   */
  public static String bounds(OutboxLimits limits) {
    double ageSec = limits.maxRecordAgeMs() / 1000.0;
    return String.format(
        Locale.ROOT,
        "queue bounds %d records (queue_max_size), %d bytes (queue.max_bytes), max_offline_hours"
            + " %s: they hold max_offline_hours while appends stay below %s records/s and %s/s",
        limits.maxQueueRecords(),
        limits.maxQueueBytes(),
        number(limits.maxRecordAgeMs() / 3_600_000.0),
        number(limits.maxQueueRecords() / ageSec),
        bytes(limits.maxQueueBytes() / ageSec));
  }

  private static String warning(
      OutboxLimits limits, String summary, long holdsMs, double recordsPerSec, double bytesPerSec) {
    double ageSec = limits.maxRecordAgeMs() / 1000.0;
    List<String> raise = new ArrayList<>();
    long neededRecords = (long) Math.ceil(recordsPerSec * ageSec);
    long neededBytes = (long) Math.ceil(bytesPerSec * ageSec);
    if (neededRecords > limits.maxQueueRecords()) {
      raise.add("sync.offline.queue_max_size to " + neededRecords);
    }
    if (neededBytes > limits.maxQueueBytes()) {
      raise.add("queue.max_bytes to " + neededBytes);
    }
    return summary
        + ": an outage longer than "
        + duration(holdsMs).replace("~", "")
        + " "
        + consequence(limits.overflowPolicy())
        + "; to hold max_offline_hours at this rate, raise "
        + String.join(" and ", raise)
        + " (or lower max_offline_hours)";
  }

  private static String consequence(OverflowPolicy policy) {
    return switch (policy) {
      case DROP_OLDEST -> "drops the oldest records (reported to the cloud as gaps)";
      case REJECT -> "refuses new appends (overflow_policy reject)";
      case BLOCK -> "blocks appends, then refuses them (overflow_policy block)";
    };
  }

  private static double msToFill(long room, double perSec) {
    if (perSec <= 0) {
      return Double.POSITIVE_INFINITY;
    }
    return Math.max(0, room) * 1000.0 / perSec;
  }

  private static long clampMs(double ms) {
    return ms >= FOREVER_MS ? FOREVER_MS : Math.round(ms);
  }

  /** "~45 s", "~17 min", "~5.2 h", "~8.3 days" or "over 10 years". */
  static String duration(long ms) {
    if (ms >= FOREVER_MS) {
      return "over 10 years";
    }
    double s = ms / 1000.0;
    if (s < 90) {
      return "~" + Math.round(s) + " s";
    }
    if (s < 90 * 60) {
      return "~" + Math.round(s / 60) + " min";
    }
    if (s < 48 * 3600) {
      return "~" + number(s / 3600) + " h";
    }
    return "~" + number(s / 86_400) + " days";
  }

  /** Whole numbers from 10 up, two significant digits below: 168, 17, 9.8, 0.017. */
  static String number(double v) {
    if (Double.isInfinite(v) || Double.isNaN(v)) {
      return String.valueOf(v);
    }
    if (Math.abs(v) >= 10) {
      return Long.toString(Math.round(v));
    }
    if (v == 0) {
      return "0";
    }
    return new BigDecimal(v).round(new MathContext(2)).stripTrailingZeros().toPlainString();
  }

  private static String bytes(double b) {
    String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < units.length - 1) {
      b /= 1024;
      u++;
    }
    return number(b) + " " + units[u];
  }
}

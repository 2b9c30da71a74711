package io.edgesync.engine.edge;

import java.util.Arrays;
import java.util.Locale;

/**
 * Decides how much compression a session can afford, so that a fast link is never slowed by an
 * encoder it does not need. Batches leave the engine's thread one after another; when encoding them
 * takes most of that thread's time while records wait, the encoder and not the link sets the pace,
 * and a cheaper encoding moves more records (measured on loopback: with COLUMNAR 200,000 to 600,000
 * appended records still waited after 15 s, with this governor at most 4,096; docs/benchmarks.md
 * "Live sync and the encoder"). On a slow link the encoder is idle most of the time and the
 * configured codec stays.
 *
 * <p>Three rungs, from most to least compression: {@link Rung#CONFIGURED} (the session's codec,
 * e.g. {@code auto}'s COLUMNAR), {@link Rung#FAST} (stateless zstd at level 1, about ten times
 * smaller than raw and several times faster than COLUMNAR) and {@link Rung#NONE}. The governor
 * looks at periods of {@link #PERIOD_MS} of engine time and the encoding time the adapter measured
 * ({@code nanos} from {@link EdgeSyncEngine.Io#nanoTime()}):
 *
 * <ul>
 *   <li><b>down</b>: records waited (the sender was not running dry) and encoding took at least
 *       {@link #DOWN_BUSY_PERCENT}% of the period: take the next cheaper rung;
 *   <li><b>up</b>: the rung above is known (measured this session) to encode fast enough that the
 *       current flow would keep it busy less than {@link #UP_BUSY_PERCENT}% of the time; or records
 *       wait, the encoder is not what holds them back, and the rung above would stay below the down
 *       threshold with a {@link #UP_SPEED_MARGIN_PERCENT}% margin (about 40% busy: more compression
 *       may then move more, and the down rule cannot fire right after);
 *   <li><b>revert</b>: every move is a trial. After one period to settle (batches of the old rung
 *       are still in flight), the first period at the new rung in which records waited must move at
 *       least {@link #KEEP_PERCENT}% of the raw bytes per second that the old rung moved while
 *       records waited; otherwise the governor moves back and does not try that move again for
 *       {@link #MIN_HOLD_MS} (doubling on each failed trial up to {@link #MAX_HOLD_MS}).
 * </ul>
 *
 * <p>An adapter that measures nothing ({@code nanoTime} constant) leaves every batch at the
 * configured rung. Deterministic: all time comes in as arguments.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class CodecGovernor {
  /** The length of one measuring period, in engine milliseconds. */
  static final long PERIOD_MS = 1_000;

  static final int DOWN_BUSY_PERCENT = 50;
  static final int UP_BUSY_PERCENT = 25;
  static final int UP_SPEED_MARGIN_PERCENT = 25;
  static final int KEEP_PERCENT = 90;
  static final long MIN_HOLD_MS = 10_000;
  static final long MAX_HOLD_MS = 300_000;

  /** How much compression a batch gets, from most to least. */
  enum Rung {
    CONFIGURED,
    FAST,
    NONE
  }

  private static final int RUNGS = Rung.values().length;

  private final boolean enabled;
  private boolean fastAccepted = true;
  private Rung rung = Rung.CONFIGURED;
  private String why = "configured";

  // The period being measured.
  private long periodStartMs = Long.MIN_VALUE;
  private long periodRawBytes;
  private long periodEncodeNanos;
  private int periodPumps;
  private int periodDryPumps;
  private boolean settling; // the first period after a move: batches of the old rung still fly

  /** Raw bytes per second of encoding time, per rung; 0 = never measured. */
  private final double[] speed = new double[RUNGS];

  /** Raw bytes per second moved while records waited, per rung; 0 = never measured. */
  private final double[] backloggedRate = new double[RUNGS];

  // The trial of the last move.
  private Rung trialFrom;
  private final long[] holdDownUntilMs = new long[RUNGS];
  private final long[] holdUpUntilMs = new long[RUNGS];
  private final long[] holdDownMs = new long[RUNGS];
  private final long[] holdUpMs = new long[RUNGS];

  /**
   * @param enabled false: every batch gets the configured codec (an explicit codec, adaptive sync
   *     off, or a daily byte budget that makes every byte count)
   */
  CodecGovernor(boolean enabled) {
    this.enabled = enabled;
    Arrays.fill(holdDownMs, MIN_HOLD_MS);
    Arrays.fill(holdUpMs, MIN_HOLD_MS);
  }

  /** The rung for the next batch; closes the period first if it is over. */
  Rung rung(long nowMs) {
    if (!enabled) {
      return Rung.CONFIGURED;
    }
    if (periodStartMs == Long.MIN_VALUE) {
      periodStartMs = nowMs;
    } else if (nowMs - periodStartMs >= PERIOD_MS) {
      decide(nowMs);
      startPeriod(nowMs);
    }
    return rung;
  }

  /** A batch of {@code rawBytes} was encoded at {@code used} in {@code nanos}. */
  void onEncoded(Rung used, long rawBytes, long nanos) {
    if (!enabled) {
      return;
    }
    periodRawBytes += rawBytes;
    periodEncodeNanos += Math.max(0, nanos);
    if (nanos > 0 && rawBytes > 0) {
      double s = rawBytes * 1e9 / nanos;
      int i = used.ordinal();
      speed[i] = speed[i] == 0 ? s : speed[i] * 0.75 + s * 0.25;
    }
  }

  /** A pump ended: {@code ranDry} when nothing was left to send, else the window was full. */
  void onPumpEnd(boolean ranDry) {
    periodPumps++;
    if (ranDry) {
      periodDryPumps++;
    }
  }

  /**
   * A new session: the link may be another one, so what was measured about it is forgotten. {@code
   * fastAccepted}: the cloud takes ZSTD batches; if not, the rung below CONFIGURED is NONE.
   */
  void reset(boolean fastAccepted) {
    this.fastAccepted = fastAccepted;
    Arrays.fill(speed, 0);
    rung = Rung.CONFIGURED;
    why = "configured";
    periodStartMs = Long.MIN_VALUE;
    trialFrom = null;
    settling = false;
    Arrays.fill(backloggedRate, 0);
    clearPeriod();
  }

  private Rung cheaper(Rung r) {
    return r == Rung.CONFIGURED && fastAccepted ? Rung.FAST : Rung.NONE;
  }

  private Rung richer(Rung r) {
    return r == Rung.NONE && fastAccepted ? Rung.FAST : Rung.CONFIGURED;
  }

  /** The rung in use and why, for status. */
  String describe() {
    return rung.name().toLowerCase(Locale.ROOT) + " (" + why + ")";
  }

  private void decide(long nowMs) {
    if (settling) {
      settling = false;
      return;
    }
    if (periodRawBytes == 0) {
      return;
    }
    double seconds = (nowMs - periodStartMs) / 1000.0;
    double rate = periodRawBytes / seconds;
    double busyPercent = periodEncodeNanos / (seconds * 1e7);
    boolean backlogged = periodDryPumps * 2 < periodPumps;
    if (backlogged) {
      backloggedRate[rung.ordinal()] = rate;
      if (trialFailed(rate, nowMs)) {
        return;
      }
    }
    if (backlogged && busyPercent >= DOWN_BUSY_PERCENT && rung != Rung.NONE) {
      if (nowMs >= holdDownUntilMs[rung.ordinal()]) {
        move(
            cheaper(rung),
            String.format(
                Locale.ROOT, "encoding took %.0f%% of the time while records waited", busyPercent));
      }
      return;
    }
    if (rung != Rung.CONFIGURED && nowMs >= holdUpUntilMs[rung.ordinal()]) {
      Rung up = richer(rung);
      double upSpeed = speed[up.ordinal()];
      // Percent of the time the rung above would spend encoding the current flow.
      double upBusyPercent = upSpeed > 0 ? rate * 100 / upSpeed : Double.MAX_VALUE;
      boolean affordable = upBusyPercent < UP_BUSY_PERCENT;
      // While records wait, never so busy that the down rule would fire again (no flapping).
      boolean roomy = upBusyPercent * (100 + UP_SPEED_MARGIN_PERCENT) < DOWN_BUSY_PERCENT * 100;
      if (affordable || (backlogged && roomy)) {
        move(up, "the encoder above keeps up with the flow");
      }
    }
  }

  /** After a move: was the new rung worse while records waited? Then move back and hold. */
  private boolean trialFailed(double rate, long nowMs) {
    if (trialFrom == null) {
      return false;
    }
    Rung from = trialFrom;
    trialFrom = null;
    double before = backloggedRate[from.ordinal()];
    if (before <= 0 || rate * 100 >= before * KEEP_PERCENT) {
      if (from.ordinal() < rung.ordinal()) {
        holdDownMs[from.ordinal()] = MIN_HOLD_MS;
      } else {
        holdUpMs[from.ordinal()] = MIN_HOLD_MS;
      }
      return false;
    }
    int i = from.ordinal();
    if (from.ordinal() < rung.ordinal()) {
      holdDownUntilMs[i] = nowMs + holdDownMs[i];
      holdDownMs[i] = Math.min(MAX_HOLD_MS, holdDownMs[i] * 2);
    } else {
      holdUpUntilMs[i] = nowMs + holdUpMs[i];
      holdUpMs[i] = Math.min(MAX_HOLD_MS, holdUpMs[i] * 2);
    }
    rung = from;
    settling = true;
    why =
        String.format(
            Locale.ROOT,
            "back: the trial moved %.0f%% of the bytes per second",
            rate * 100 / before);
    return true;
  }

  private void move(Rung to, String reason) {
    trialFrom = rung;
    rung = to;
    why = reason;
    settling = true;
  }

  private void startPeriod(long nowMs) {
    periodStartMs = nowMs;
    clearPeriod();
  }

  private void clearPeriod() {
    periodRawBytes = 0;
    periodEncodeNanos = 0;
    periodPumps = 0;
    periodDryPumps = 0;
  }
}

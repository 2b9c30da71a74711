package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.testing.FakeClock;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The agent honours the server's RETRY_LATER (admission pacing) instead of its own backoff. */
class RetryLaterTest {
  private static final long T0 = 1_700_000_000_000L;

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final RecordingEdgeIo io = new RecordingEdgeIo();
  private final EdgeSyncEngine engine = TestPolicy.engine(TestPolicy.builder(), outbox, io);

  @Test
  void delay_isTheAskedTimePlusUpToHalfOfItAsJitter() {
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    for (int seed = 0; seed < 2_000; seed++) {
      long d = RetryLater.delayMs(2_000, new SplittableRandom(seed));
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    assertThat(min).isBetween(2_000L, 2_020L);
    assertThat(max).isBetween(2_980L, 3_000L);
  }

  @Test
  void delay_spreadsDevicesToldTheSameTime() {
    RandomGenerator random = new SplittableRandom(42);
    java.util.Set<Long> distinct = new java.util.HashSet<>();
    for (int device = 0; device < 100; device++) {
      distinct.add(RetryLater.delayMs(10_000, random));
    }
    assertThat(distinct).hasSizeGreaterThan(95); // not in lockstep
  }

  @Test
  void retryLater_reconnectsAfterTheServersTimeNotTheBackoff() {
    long cut = handshakeRefused(30_000);

    long wait = engine.nextWakeupMs() - cut;
    // The backoff would have chosen 500..1000 ms for this first failure.
    assertThat(wait).isBetween(30_000L, 45_000L);
    assertThat(engine.lastError())
        .startsWith("the server is pacing admissions (RETRY_LATER: ")
        .endsWith("); connecting again in " + wait + " ms");
    engine.onTimer(engine.nextWakeupMs() - 1);
    assertThat(io.connects()).isEqualTo(1);
    engine.onTimer(engine.nextWakeupMs());
    assertThat(io.connects()).isEqualTo(2);
  }

  @Test
  void retryLater_doesNotGrowTheBackoff() {
    handshakeRefused(5_000);
    clock.set(engine.nextWakeupMs());
    engine.onTimer(clock.nowMs());
    engine.onConnected(clock.nowMs());

    long cut = clock.nowMs() + 10;
    engine.onDisconnected(cut, "connection reset");

    // The first ordinary failure: the backoff's first step (500..1000 ms), not its second.
    assertThat(engine.nextWakeupMs() - cut).isBetween(500L, 1_000L);
  }

  @Test
  void retryLater_beyondFiveMinutes_isCapped() {
    long cut = handshakeRefused(0xFFFF_FFFFL);

    assertThat(engine.nextWakeupMs() - cut)
        .isBetween(RetryLater.MAX_RETRY_AFTER_MS, RetryLater.MAX_RETRY_AFTER_MS * 3 / 2);
  }

  @Test
  void otherFatalErrors_keepTheBackoff() {
    engine.start(T0);
    engine.onConnected(T0);
    engine.onFrame(T0 + 5, Frames.error(ErrorCode.SERVER_BUSY, "busy", true));
    engine.onDisconnected(T0 + 10, "closed by the cloud");

    assertThat(engine.nextWakeupMs() - (T0 + 10)).isBetween(500L, 1_000L);
  }

  /** Connects, gets RETRY_LATER with {@code retryAfterMs} for its Hello, and is disconnected. */
  private long handshakeRefused(long retryAfterMs) {
    engine.start(T0);
    engine.onConnected(T0);
    engine.onFrame(T0 + 5, Frames.retryLater("200 sessions/s", retryAfterMs));
    assertThat(io.disconnects()).hasSize(1); // fatal: the engine closes
    long cut = T0 + 10;
    engine.onDisconnected(cut, "closed by the cloud (1013 try again later)");
    return cut;
  }
}

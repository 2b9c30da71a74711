package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.edge.CodecGovernor.Rung;
import org.junit.jupiter.api.Test;

/**
 * The rules of {@link CodecGovernor}, period by period: step down when encoding holds records back,
 * stay when the link does, step back up when the rung above is affordable, and undo a move that
 * moved fewer bytes, holding it off for longer each time.
 */
class CodecGovernorTest {
  private static final long PERIOD = CodecGovernor.PERIOD_MS;
  private static final long MS = 1_000_000;

  private final CodecGovernor governor = new CodecGovernor(true);
  private long nowMs = 1_000;

  /**
   * One period: {@code batches} batches of {@code rawBytes}, each encoded in {@code encodeMs}; the
   * pumps run dry or not. Returns the rung for the first batch of the next period.
   */
  private Rung period(int batches, long rawBytes, double encodeMs, boolean backlogged) {
    Rung r = governor.rung(nowMs);
    for (int i = 0; i < batches; i++) {
      governor.onEncoded(r, rawBytes, (long) (encodeMs * MS));
      governor.onPumpEnd(!backlogged);
    }
    nowMs += PERIOD;
    return governor.rung(nowMs);
  }

  @Test
  void encoderBusyWhileRecordsWait_stepsDownOneRungPerDecision_toFastThenNone() {
    // 10 batches of 1 MB at 80 ms each: 80% of the period encoding, records waiting.
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    assertThat(governor.describe()).startsWith("fast (encoding took 80% of the time");
    // The settling period after a move decides nothing, even if FAST is as busy.
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    // Then FAST, still 80% busy and moving as many bytes, steps down again.
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.NONE);
  }

  @Test
  void linkHoldsRecordsBack_encoderMostlyIdle_configuredStays() {
    for (int i = 0; i < 20; i++) {
      assertThat(period(4, 1_000_000, 10, true)).isEqualTo(Rung.CONFIGURED);
    }
    assertThat(governor.describe()).isEqualTo("configured (configured)");
  }

  @Test
  void busyEncoder_butNothingWaits_configuredStays() {
    // The sender runs dry after every batch: the flow is the application's, the encoder keeps up.
    for (int i = 0; i < 5; i++) {
      assertThat(period(10, 1_000_000, 80, false)).isEqualTo(Rung.CONFIGURED);
    }
  }

  @Test
  void nothingMeasured_adapterWithoutTicker_configuredStays() {
    for (int i = 0; i < 5; i++) {
      assertThat(period(50, 1_000_000, 0, true)).isEqualTo(Rung.CONFIGURED);
    }
  }

  @Test
  void disabled_everyBatchConfigured_evenWithABusyEncoder() {
    CodecGovernor off = new CodecGovernor(false);
    long t = 0;
    for (int i = 0; i < 5; i++) {
      Rung r = off.rung(t);
      off.onEncoded(r, 1_000_000, 900 * MS);
      off.onPumpEnd(false);
      t += PERIOD;
      assertThat(off.rung(t)).isEqualTo(Rung.CONFIGURED);
    }
  }

  @Test
  void trialThatMovesFewerBytes_goesBack_andTheMoveWaitsTenSecondsThenTwenty() {
    // Configured: 10 MB/s, encoder 80% busy -> trial at FAST.
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    period(5, 1_000_000, 5, true); // settling
    // FAST moves only 5 MB/s (the link is slower than the encoder was): back to CONFIGURED.
    assertThat(period(5, 1_000_000, 5, true)).isEqualTo(Rung.CONFIGURED);
    assertThat(governor.describe()).contains("back: the trial moved 50%");
    period(10, 1_000_000, 80, true); // settling after the move back
    // Still 80% busy, but the move down is held for 10 s from the failed trial.
    long heldUntil = nowMs - PERIOD + CodecGovernor.MIN_HOLD_MS;
    while (nowMs + PERIOD < heldUntil) {
      assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.CONFIGURED);
    }
    while (period(10, 1_000_000, 80, true) != Rung.FAST) {
      assertThat(nowMs).isLessThanOrEqualTo(heldUntil + 2 * PERIOD);
    }
    // A second failed trial holds the move for 20 s.
    period(5, 1_000_000, 5, true);
    assertThat(period(5, 1_000_000, 5, true)).isEqualTo(Rung.CONFIGURED);
    long secondFail = nowMs;
    int periodsHeld = 0;
    while (period(10, 1_000_000, 80, true) == Rung.CONFIGURED) {
      periodsHeld++;
    }
    assertThat(nowMs - secondFail).isEqualTo(2 * CodecGovernor.MIN_HOLD_MS);
    assertThat(periodsHeld).isEqualTo(19);
  }

  @Test
  void trialThatMovesAsMuch_isKept() {
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    period(10, 1_000_000, 10, true); // settling
    assertThat(period(10, 1_000_000, 10, true)).isEqualTo(Rung.FAST);
    assertThat(period(10, 1_000_000, 10, true)).isEqualTo(Rung.FAST);
  }

  @Test
  void flowSlowsDown_rungAboveWouldBeLessThanAQuarterBusy_goesBackUp() {
    // Configured encodes 1 MB in 80 ms (12.5 MB/s): busy, records wait -> FAST.
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    period(10, 1_000_000, 10, true); // settling
    assertThat(period(10, 1_000_000, 10, true)).isEqualTo(Rung.FAST); // kept
    // The flow drops to 2 MB/s and the sender runs dry: CONFIGURED would be 16% busy.
    assertThat(period(2, 1_000_000, 10, false)).isEqualTo(Rung.CONFIGURED);
    assertThat(governor.describe()).startsWith("configured (the encoder above keeps up");
  }

  @Test
  void flowAboveAQuarterOfTheRungAbove_staysCheap() {
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    period(10, 1_000_000, 10, true);
    // 5 MB/s app-limited: CONFIGURED (12.5 MB/s) would be 40% busy, above the 25% allowed.
    for (int i = 0; i < 5; i++) {
      assertThat(period(5, 1_000_000, 10, false)).isEqualTo(Rung.FAST);
    }
  }

  @Test
  void windowLimitedFlow_afterAStepDown_doesNotFlapBackUp_regressionFoundInReview() {
    // CONFIGURED encodes 12.5 MB/s; the in-flight window lets 9 MB/s through: 72% busy -> FAST.
    assertThat(period(9, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    period(9, 1_000_000, 10, true); // settling
    // CONFIGURED would be 72% busy again at this flow: it must not be tried again and again.
    for (int i = 0; i < 20; i++) {
      assertThat(period(9, 1_000_000, 10, true)).isEqualTo(Rung.FAST);
    }
  }

  @Test
  void linkBoundAtFast_rungAboveWouldBeLightlyBusy_goesBackUp() {
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    period(10, 1_000_000, 10, true); // settling
    assertThat(period(10, 1_000_000, 10, true)).isEqualTo(Rung.FAST); // kept: as many bytes
    // The link slows to 3 MB/s, records wait: CONFIGURED would be 24% busy -> worth trying.
    assertThat(period(3, 1_000_000, 10, true)).isEqualTo(Rung.CONFIGURED);
  }

  @Test
  void trialIsJudgedByThePeriodsInWhichRecordsWaited_notCancelledByAQuietOne() {
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    period(10, 1_000_000, 10, true); // settling
    // A quiet period: the sender ran dry. It decides nothing about the trial.
    assertThat(period(6, 1_000_000, 6, false)).isEqualTo(Rung.FAST);
    // Records wait again and FAST moves half the bytes CONFIGURED did: back.
    assertThat(period(5, 1_000_000, 5, true)).isEqualTo(Rung.CONFIGURED);
    assertThat(governor.describe()).contains("back: the trial moved 50%");
  }

  @Test
  void cloudWithoutZstd_stepsFromConfiguredStraightToNone() {
    governor.reset(false);
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.NONE);
  }

  @Test
  void newSession_startsAgainFromTheConfiguredCodec() {
    assertThat(period(10, 1_000_000, 80, true)).isEqualTo(Rung.FAST);
    governor.reset(true);
    assertThat(governor.rung(nowMs)).isEqualTo(Rung.CONFIGURED);
    assertThat(governor.describe()).isEqualTo("configured (configured)");
  }
}

package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.support.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AdmissionControlTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  private AdmissionControl control(int maxPending, int perS) {
    return new AdmissionControl(new AdmissionLimits(maxPending, perS, 60_000), nanos::get);
  }

  private void advanceMs(long ms) {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  @Test
  void admitsABurstOfOneSecondsWorth_thenRefusesWithRetryLater() {
    AdmissionControl c = control(100, 10);
    for (int i = 0; i < 10; i++) {
      admitAndFinish(c);
    }
    Frame refusal = c.tryAdmit().refusal();

    assertThat(refusal.getError().getCode()).isEqualTo(ErrorCode.RETRY_LATER);
    assertThat(refusal.getError().getFatal()).isTrue();
    assertThat(refusal.getError().getRetryAfterMs()).isEqualTo(100);
    assertThat(refusal.getError().getMessage())
        .isEqualTo(
            "the server admits 10 sessions/s (max_sessions_per_s); connect again after 100 ms");
    assertThat(c.admitted()).isEqualTo(10);
    assertThat(c.refused()).isEqualTo(1);
  }

  @Test
  void tokensRefillAtTheRate() {
    AdmissionControl c = control(100, 10);
    for (int i = 0; i < 10; i++) {
      admitAndFinish(c);
    }
    advanceMs(99);
    assertThat(c.tryAdmit().refusal()).isNotNull();
    advanceMs(1); // 100 ms = one token at 10/s
    assertThat(c.tryAdmit().refusal()).isNull();
  }

  @Test
  void aHelloThatWaitedTooLongForAThread_isRefusedBeforeAnyStoreWork_untilTheQueueDrained() {
    AdmissionControl c =
        new AdmissionControl(
            new AdmissionLimits(100, 1_000, 60_000, 256, 10_000, 5_000), nanos::get);
    long waited = TimeUnit.MILLISECONDS.toNanos(5_001);

    Frame refusal = c.tryAdmit(waited).refusal();

    assertThat(refusal.getError().getCode()).isEqualTo(ErrorCode.RETRY_LATER);
    assertThat(refusal.getError().getMessage())
        .startsWith(
            "this Hello waited 5001 ms for a thread, more than max_hello_wait_ms 5000 (the server"
                + " is saturated); connect again after ");
    assertThat(c.waitedTooLong()).isEqualTo(1);
    assertThat(c.pending()).as("no admission taken").isZero();
    // Told to come back after as long as it waited (the queue's length), not a paced slot.
    assertThat(refusal.getError().getRetryAfterMs()).isEqualTo(5_001);
    assertThat(c.tryAdmit(TimeUnit.MINUTES.toNanos(5)).refusal().getError().getRetryAfterMs())
        .as("capped at max_retry_after_ms")
        .isEqualTo(60_000);
    try (AdmissionControl.Ticket t = c.tryAdmit(TimeUnit.MILLISECONDS.toNanos(4_999))) {
      assertThat(t.refusal()).as("waited within the bound").isNull();
    }
  }

  @Test
  void refusedDevices_areToldDistinctTimes_oneIntervalApart() {
    AdmissionControl c = control(100, 10);
    for (int i = 0; i < 10; i++) {
      admitAndFinish(c);
    }
    List<Integer> told = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      told.add(retryAfterMs(c));
    }
    assertThat(told).containsExactly(100, 200, 300, 400, 500);
    advanceMs(50); // half a token: still refused, and told the slot after the last one promised
    assertThat(retryAfterMs(c)).isEqualTo(550);
  }

  @Test
  void retryAfter_isCappedAtTheHorizon() {
    AdmissionControl c = new AdmissionControl(new AdmissionLimits(1, 1, 2_000), nanos::get);
    admitAndFinish(c);
    List<Integer> told = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      told.add(retryAfterMs(c));
    }
    assertThat(told).containsExactly(1_000, 2_000, 2_000, 2_000);
  }

  @Test
  void pendingHellosBeyondTheLimit_areRefusedUntilOneFinishes() {
    AdmissionControl c = control(2, 1_000);
    AdmissionControl.Ticket first = c.tryAdmit();
    assertThat(first.refusal()).isNull();
    assertThat(c.tryAdmit().refusal()).isNull();
    Frame refusal = c.tryAdmit().refusal();
    assertThat(refusal.getError().getMessage())
        .startsWith("2 sessions are being admitted now (max_pending_sessions)");
    first.close();
    first.close(); // once only
    assertThat(c.pending()).isEqualTo(1);
    assertThat(c.tryAdmit().refusal()).isNull();
    assertThat(c.pending()).isEqualTo(2);
  }

  @Test
  void slowHellos_spaceTheReturnSlotsByWhatThePendingBoundSustains() {
    AdmissionControl c = control(4, 1_000); // the rate alone would space them 1 ms apart
    List<AdmissionControl.Ticket> slow = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      slow.add(c.tryAdmit());
    }
    advanceMs(200); // each Hello takes 200 ms: 4 at a time sustain 20 sessions/s
    slow.forEach(AdmissionControl.Ticket::close);
    for (int i = 0; i < 4; i++) {
      slow.add(c.tryAdmit());
    }

    List<Integer> told = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      told.add(retryAfterMs(c));
    }
    assertThat(told).containsExactly(50, 100, 150);
  }

  @Test
  void onlyAHelloIsDecidedOn() {
    assertThat(AdmissionControl.isHello(FrameCodec.encode(hello()))).isTrue();
    assertThat(AdmissionControl.isHello(FrameCodec.encode(Frames.heartbeat(1, false)))).isFalse();
    assertThat(AdmissionControl.isHello(new byte[] {1, 2, 3})).isFalse();
  }

  @Test
  void aRefusalsTicket_freesNothing() {
    AdmissionControl c = control(1, 1_000);
    AdmissionControl.Ticket admitted = c.tryAdmit();
    c.tryAdmit().close();
    assertThat(c.pending()).isEqualTo(1);
    admitted.close();
    assertThat(c.pending()).isZero();
  }

  private static void admitAndFinish(AdmissionControl c) {
    AdmissionControl.Ticket t = c.tryAdmit();
    assertThat(t.refusal()).isNull();
    t.close();
  }

  private static int retryAfterMs(AdmissionControl c) {
    return c.tryAdmit().refusal().getError().getRetryAfterMs();
  }

  @Test
  void config_readsTheSection_andNamesBadValues() {
    ServerConfig c =
        ServerConfig.fromYaml(
            "server: {admission: {max_pending_sessions: 4, max_sessions_per_s: 50,"
                + " max_retry_after_ms: 10000, max_pending_handshakes: 32,"
                + " handshake_timeout_ms: 2000, max_hello_wait_ms: 3000}}");
    assertThat(c.admission()).isEqualTo(new AdmissionLimits(4, 50, 10_000, 32, 2_000, 3_000));
    assertThat(ServerConfig.fromYaml("server: {}").admission())
        .isEqualTo(AdmissionLimits.defaults());
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: {admission: {max_sessions_per_s: 0}}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'server.admission.max_sessions_per_s'")
        .hasMessageContaining("0 is out of range; allowed: 1..1000000");
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: {admission: {max_pending: 3}}"))
        .hasMessageContaining("'server.admission.max_pending': unknown key");
    assertThatThrownBy(() -> new AdmissionLimits(0, 1, 1_000))
        .hasMessage("max_pending_sessions must be in 1..100000 sessions, not 0");
    assertThatThrownBy(
            () -> ServerConfig.fromYaml("server: {admission: {handshake_timeout_ms: 50}}"))
        .hasMessageContaining("'server.admission.handshake_timeout_ms'")
        .hasMessageContaining("50 is out of range; allowed: 100..300000");
  }

  private static Frame hello() {
    return Frame.newBuilder().setHello(Hello.newBuilder().setDeviceId("gw-1")).build();
  }
}

package io.edgesync.agent.internal;

import static io.edgesync.engine.edge.EdgeSyncEngine.State.ACTIVE;
import static io.edgesync.engine.edge.EdgeSyncEngine.State.CONNECTING;
import static io.edgesync.engine.edge.EdgeSyncEngine.State.DISCONNECTED;
import static io.edgesync.engine.edge.EdgeSyncEngine.State.HANDSHAKING;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.agent.AgentStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What status says about the connection and the last error, from the engine's state and text. */
class ConnectionTrackerTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String REFUSED = "connection refused"; // one literal, repeated

  private final ConnectionTracker tracker = new ConnectionTracker("ws://cloud/v1/sync", true, T0);

  private static String at(long ms) {
    return Instant.ofEpochMilli(ms).toString();
  }

  @Test
  void failedAttempts_keepTheDisconnectedSince_butMoveTheErrorsTime() {
    tracker.observe(CONNECTING, null, T0);
    tracker.observe(DISCONNECTED, REFUSED, T0 + 10);
    tracker.observe(CONNECTING, REFUSED, T0 + 500);
    tracker.observe(DISCONNECTED, REFUSED, T0 + 510); // the same string object again

    assertThat(tracker.connection())
        .isEqualTo(new AgentStatus.ConnectionView("disconnected", at(T0), "ws://cloud/v1/sync"));
    assertThat(tracker.lastError())
        .isEqualTo(new AgentStatus.ErrorView(REFUSED, at(T0 + 510), false));
  }

  @Test
  void sessionEstablished_connectedSinceThen_andTheEarlierErrorIsPast() {
    tracker.observe(DISCONNECTED, REFUSED, T0 + 10);
    tracker.observe(CONNECTING, REFUSED, T0 + 500);
    tracker.observe(HANDSHAKING, REFUSED, T0 + 520);
    assertThat(tracker.connection().state()).isEqualTo("connecting");

    tracker.observe(ACTIVE, REFUSED, T0 + 540);

    assertThat(tracker.connection().state()).isEqualTo("connected");
    assertThat(tracker.connection().since()).isEqualTo(at(T0 + 540));
    assertThat(tracker.lastError())
        .isEqualTo(new AgentStatus.ErrorView(REFUSED, at(T0 + 10), true));
  }

  @Test
  void errorWhileConnected_isCurrent_andTheSessionsEndStartsTheDisconnectedSince() {
    tracker.observe(DISCONNECTED, REFUSED, T0 + 10);
    tracker.observe(ACTIVE, REFUSED, T0 + 500);
    String blocked = new String("stream 'x' blocked: the cloud is ahead");

    tracker.observe(ACTIVE, blocked, T0 + 600);
    assertThat(tracker.lastError())
        .isEqualTo(new AgentStatus.ErrorView(blocked, at(T0 + 600), false));

    tracker.observe(DISCONNECTED, REFUSED, T0 + 900);
    assertThat(tracker.connection().since()).isEqualTo(at(T0 + 900));
    assertThat(tracker.lastError())
        .isEqualTo(new AgentStatus.ErrorView(REFUSED, at(T0 + 900), false));
  }

  @Test
  void syncDisabled_saysDisabledSinceStart_andNoError() {
    ConnectionTracker off = new ConnectionTracker("ws://cloud/v1/sync", false, T0);

    assertThat(off.connection().state()).isEqualTo("disabled");
    assertThat(off.connection().since()).isEqualTo(at(T0));
    assertThat(off.lastError()).isNull();
  }

  @Test
  void aRevocationStaysNamed_whileLaterAttemptsFail_untilASessionIsEstablished() {
    String revoked = "cloud reported CERTIFICATE_REVOKED: the client certificate ... was revoked";
    String eof = "cannot connect to wss://cloud/v1/sync: EOFException: EOF reached while reading";
    tracker.observe(ACTIVE, null, T0);
    tracker.observe(DISCONNECTED, revoked, T0 + 10);
    assertThat(tracker.lastError().message()).isEqualTo(revoked);

    tracker.observe(CONNECTING, revoked, T0 + 500);
    tracker.observe(DISCONNECTED, eof, T0 + 510);
    assertThat(tracker.lastError())
        .isEqualTo(
            new AgentStatus.ErrorView(
                eof + "; the cloud had closed the last session: " + revoked, at(T0 + 510), false));

    tracker.observe(ACTIVE, eof, T0 + 900); // a new certificate: the note goes
    tracker.observe(DISCONNECTED, REFUSED, T0 + 950);
    assertThat(tracker.lastError().message()).isEqualTo(REFUSED);
  }
}

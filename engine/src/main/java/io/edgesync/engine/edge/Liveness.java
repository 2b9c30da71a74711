package io.edgesync.engine.edge;

import io.edgesync.engine.link.LinkEstimator;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Welcome;

/**
 * Whether a session is alive (docs/protocol.md, "Heartbeats"): it ends after {@code
 * heartbeatTimeoutMs} with nothing received and no send progress, and a heartbeat goes out every
 * interval; the cloud's reply to one is a round-trip sample for the {@link LinkEstimator}.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class Liveness {
  private static final long NONE = Long.MIN_VALUE;

  private final long policyIntervalMs;
  private final long timeoutMs;

  private long lastReceivedMs;

  /**
   * When the transport last reported bytes of a frame written to the network ({@link
   * EdgeSyncEngine#onSendProgress}): while a large batch is being pushed, nothing can arrive, but
   * the link is alive as long as it takes bytes.
   */
  private long lastSendProgressMs;

  private long lastHeartbeatSentMs;

  /**
   * This session's heartbeat interval: the policy's, or the cloud's {@code
   * Welcome.heartbeat_interval_ms} if that is shorter (the cloud closes a session it hears nothing
   * from for a few of its intervals, so a longer local interval would end every quiet session).
   */
  private long intervalMs;

  /** When the heartbeat that awaits its reply was sent; NONE if none does. */
  private long pendingSinceMs = NONE;

  Liveness(SyncPolicy policy) {
    this.policyIntervalMs = policy.heartbeatIntervalMs();
    this.timeoutMs = policy.heartbeatTimeoutMs();
    this.intervalMs = policyIntervalMs;
  }

  /** The connection opened: it counts as alive from now. */
  void onConnected(long nowMs) {
    lastReceivedMs = nowMs;
    lastSendProgressMs = nowMs;
  }

  void onReceived(long nowMs) {
    lastReceivedMs = nowMs;
  }

  void onSendProgress(long nowMs) {
    lastSendProgressMs = Math.max(lastSendProgressMs, nowMs);
  }

  /** The session's interval: ours, or the cloud's if lower. */
  void onWelcome(Welcome welcome) {
    intervalMs =
        welcome.getHeartbeatIntervalMs() > 0
            ? Math.min(policyIntervalMs, welcome.getHeartbeatIntervalMs())
            : policyIntervalMs;
  }

  /** The session is active: the first heartbeat is due an interval from now. */
  void onActive(long nowMs) {
    lastHeartbeatSentMs = nowMs;
  }

  /** The session ended: a reply still on its way would measure nothing. */
  void endSession() {
    pendingSinceMs = NONE;
  }

  boolean timedOut(long nowMs) {
    return nowMs - lastAliveMs() >= timeoutMs;
  }

  /** Why {@link #timedOut} holds, for the disconnect. */
  String timeoutReason(long nowMs) {
    return "nothing received for "
        + (nowMs - lastReceivedMs)
        + " ms"
        + (lastSendProgressMs > lastReceivedMs
            ? ", no bytes sent for " + (nowMs - lastSendProgressMs) + " ms"
            : "");
  }

  boolean heartbeatDue(long nowMs) {
    return nowMs - lastHeartbeatSentMs >= intervalMs;
  }

  /** A heartbeat (or the reply to the cloud's) to send now. */
  Frame heartbeat(long nowMs, boolean reply) {
    lastHeartbeatSentMs = nowMs;
    if (!reply && pendingSinceMs == NONE) {
      pendingSinceMs = nowMs;
    }
    return Frames.heartbeat(nowMs, reply);
  }

  /** The cloud replied to a heartbeat: a round trip for the link, if one was pending. */
  void onHeartbeatReply(long nowMs, LinkEstimator link) {
    if (pendingSinceMs != NONE) {
      link.onHeartbeatReply(nowMs, pendingSinceMs);
      pendingSinceMs = NONE;
    }
  }

  /** When the session times out or the next heartbeat is due, whichever comes first. */
  long wakeupMs() {
    return Math.min(lastAliveMs() + timeoutMs, lastHeartbeatSentMs + intervalMs);
  }

  /** The last sign of life of the connection: a frame received or bytes sent. */
  private long lastAliveMs() {
    return Math.max(lastReceivedMs, lastSendProgressMs);
  }
}

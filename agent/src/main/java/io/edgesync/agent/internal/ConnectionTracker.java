package io.edgesync.agent.internal;

import io.edgesync.agent.AgentStatus;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.protocol.wire.ErrorCode;
import java.time.Instant;

/**
 * Turns what the engine exposes (its state and its last error text) into what a user asks: is the
 * agent connected, since when, and was the last error before or after the last successful
 * connection. The agent calls {@link #observe} after every engine call, with the wall-clock time.
 *
 * <p>{@code since} of a connection that is not up is when the agent was last connected (or
 * started): failed attempts in between do not move it, so "disconnected since" says how long the
 * device has been without the cloud. An error is new when the engine assigned its last error again
 * (a repeated failure has the same text but is a new occurrence, at a new time) or the session
 * ended; it is past once a session was established after it.
 *
 * <p>Not thread safe: owned by the agent's sync loop thread.
 */
public final class ConnectionTracker {
  private final String serverUrl;
  private final boolean enabled;
  private EdgeSyncEngine.State state = EdgeSyncEngine.State.DISCONNECTED;
  private long sinceMs;
  private String error; // as shown: the engine's text, with the revocation note if any
  private String engineError; // the engine's text, compared by reference
  private long errorAtMs;
  private boolean errorPast;
  private String revoked; // the cloud's CERTIFICATE_REVOKED error, until a session is established

  public ConnectionTracker(String serverUrl, boolean enabled, long startMs) {
    this.serverUrl = serverUrl;
    this.enabled = enabled;
    this.sinceMs = startMs;
  }

  /** The engine's state and last error after a call, at {@code nowMs} (wall clock). */
  public void observe(EdgeSyncEngine.State now, String lastError, long nowMs) {
    boolean up = now == EdgeSyncEngine.State.ACTIVE;
    boolean wasUp = state == EdgeSyncEngine.State.ACTIVE;
    if (up != wasUp || (now == EdgeSyncEngine.State.STOPPED && state != now)) {
      sinceMs = nowMs; // connected, lost, or stopped: a new period begins
    }
    if (up && !wasUp) {
      errorPast = true; // the session proves the earlier error no longer holds
      revoked = null;
    }
    boolean ended = now == EdgeSyncEngine.State.DISCONNECTED && state != now;
    // Reference comparison on purpose: the engine assigns a fresh string for each error, so an
    // identical text assigned again is a new occurrence. A literal reason repeats by reference,
    // which the end of a session (a state change into DISCONNECTED) catches.
    if (lastError != null && (lastError != engineError || ended)) {
      engineError = lastError;
      error = withRevocation(lastError);
      errorAtMs = nowMs;
      errorPast = false; // set after the session change: an error of a new session is current
    }
    state = now;
  }

  /**
   * After the cloud closed the session because this device's certificate was revoked, a reconnect
   * fails at the TLS handshake, often as a bare EOF (a resumed TLS session is refused after it
   * completed, without a certificate alert). The status keeps naming the revocation until a session
   * is established again, so that the operator sees why.
   */
  private String withRevocation(String lastError) {
    if (lastError.contains(REVOKED)) {
      revoked = lastError;
      return lastError;
    }
    return revoked == null || lastError.contains(revoked)
        ? lastError
        : lastError + "; the cloud had closed the last session: " + revoked;
  }

  private static final String REVOKED = ErrorCode.CERTIFICATE_REVOKED.name();

  public AgentStatus.ConnectionView connection() {
    String name =
        !enabled
            ? "disabled"
            : switch (state) {
              case ACTIVE -> "connected";
              case CONNECTING, HANDSHAKING -> "connecting";
              case DISCONNECTED -> "disconnected";
              case STOPPED -> "stopped";
            };
    return new AgentStatus.ConnectionView(
        name, Instant.ofEpochMilli(sinceMs).toString(), serverUrl);
  }

  /** Null when there was no error since the agent started. */
  public AgentStatus.ErrorView lastError() {
    return error == null
        ? null
        : new AgentStatus.ErrorView(error, Instant.ofEpochMilli(errorAtMs).toString(), errorPast);
  }
}

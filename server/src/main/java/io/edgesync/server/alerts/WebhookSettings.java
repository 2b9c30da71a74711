package io.edgesync.server.alerts;

import java.net.URI;
import java.util.Objects;

/**
 * {@code server.alerts.webhook}: where alerts are POSTed when they fire and when they resolve.
 *
 * @param url the receiver, http or https
 * @param timeoutMs one attempt's limit, connect to answer
 * @param maxAttempts attempts per event before it is dropped (counted and logged)
 * @param backoffMs the wait after the first failed attempt; it doubles with each further failure,
 *     up to {@link #MAX_BACKOFF_MS}
 * @param maxQueued events waiting for delivery; an event beyond it is dropped (counted and logged)
 * @param secret the HMAC-SHA256 key: the text of {@code secret_file}, trimmed (null: requests are
 *     unsigned)
 */
public record WebhookSettings(
    URI url, long timeoutMs, int maxAttempts, long backoffMs, int maxQueued, String secret) {
  /** The longest wait between two attempts, however many failed. */
  public static final long MAX_BACKOFF_MS = 300_000;

  public static final long DEFAULT_TIMEOUT_MS = 5_000;
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  public static final long DEFAULT_BACKOFF_MS = 1_000;
  public static final int DEFAULT_MAX_QUEUED = 1_000;

  public WebhookSettings {
    Objects.requireNonNull(url, "url");
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())
        || url.getHost() == null) {
      throw new IllegalArgumentException("webhook url must be http(s)://host/..., was " + url);
    }
    if (timeoutMs < 1 || maxAttempts < 1 || backoffMs < 0 || maxQueued < 1) {
      throw new IllegalArgumentException("webhook limits must be positive");
    }
  }

  /** Without the secret: settings end up in logs and test failures. */
  @Override
  public String toString() {
    return "WebhookSettings[url="
        + url
        + ", timeoutMs="
        + timeoutMs
        + ", maxAttempts="
        + maxAttempts
        + ", backoffMs="
        + backoffMs
        + ", maxQueued="
        + maxQueued
        + ", secret="
        + (secret == null ? "none" : "<redacted>")
        + "]";
  }

  /** The wait after {@code failures} failed attempts of one event. */
  long backoffAfter(int failures) {
    long wait = backoffMs;
    for (int i = 1; i < failures && wait < MAX_BACKOFF_MS; i++) {
      wait *= 2;
    }
    return Math.min(wait, MAX_BACKOFF_MS);
  }
}

package io.edgesync.engine.dict;

import java.util.HashMap;
import java.util.Map;

/**
 * Decides when the cloud trains a stream's dictionary, without I/O: fed the record bytes each
 * committed batch carried and the time, it says when a training should start ({@link
 * DictionaryRules}: enough new sample bytes since the last training, and the minimum interval
 * passed). At most one training per stream runs at a time; a failed training counts as one for the
 * interval, so a stream zstd cannot train from is retried only after {@code minIntervalMs}.
 *
 * <p>Thread safe (synchronized): sessions report commits from their threads, the trainer reports
 * outcomes from its own.
 */
public final class DictionarySchedule {
  private static final long NEVER = Long.MIN_VALUE;

  private final DictionaryRules rules;
  private final Map<String, StreamState> streams = new HashMap<>();

  private static final class StreamState {
    long bytesSinceTraining;
    long lastTrainingMs = NEVER;
    boolean running;
  }

  public DictionarySchedule(DictionaryRules rules) {
    this.rules = rules;
  }

  /** The stream's last training (from the store, at start), so the interval holds over restarts. */
  public synchronized void trainedBefore(String stream, long trainedAtMs) {
    StreamState s = state(stream);
    if (s != null) {
      s.lastTrainingMs = Math.max(s.lastTrainingMs, trainedAtMs);
    }
  }

  /**
   * A batch of {@code stream} with {@code recordBytes} bytes of record payloads was committed.
   * Returns true if a training of the stream should start now (the caller then reports {@link
   * #finished}).
   */
  public synchronized boolean onCommitted(String stream, long recordBytes, long nowMs) {
    if (!rules.enabled() || recordBytes <= 0) {
      return false;
    }
    StreamState s = state(stream);
    if (s == null) {
      return false;
    }
    s.bytesSinceTraining = Math.min(Long.MAX_VALUE / 2, s.bytesSinceTraining + recordBytes);
    if (s.running || s.bytesSinceTraining < rules.sampleBytes()) {
      return false;
    }
    if (s.lastTrainingMs != NEVER && nowMs - s.lastTrainingMs < rules.minIntervalMs()) {
      return false;
    }
    s.running = true;
    s.bytesSinceTraining = 0;
    return true;
  }

  /** A training of {@code stream} ended (a new dictionary, or a failure), at {@code nowMs}. */
  public synchronized void finished(String stream, long nowMs) {
    StreamState s = streams.get(stream);
    if (s != null) {
      s.running = false;
      s.lastTrainingMs = nowMs;
    }
  }

  /** Whether a training of the stream is running. */
  public synchronized boolean running(String stream) {
    StreamState s = streams.get(stream);
    return s != null && s.running;
  }

  private StreamState state(String stream) {
    StreamState s = streams.get(stream);
    if (s == null) {
      if (streams.size() >= rules.maxStreams()) {
        return null;
      }
      s = new StreamState();
      streams.put(stream, s);
    }
    return s;
  }
}

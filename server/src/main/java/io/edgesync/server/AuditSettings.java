package io.edgesync.server;

/**
 * When the server signs an audit checkpoint: after every {@code checkpointEveryRecords} records,
 * and every {@code checkpointIntervalMs} while records are unanchored. Command-line flags {@code
 * --audit-checkpoint-records} and {@code --audit-checkpoint-interval-ms} of {@code edgesync
 * server}.
 */
public record AuditSettings(long checkpointEveryRecords, long checkpointIntervalMs) {
  /** 1,000 records or one minute: an Ed25519 signature costs well under a millisecond. */
  public static final AuditSettings DEFAULTS = new AuditSettings(1_000, 60_000);

  public AuditSettings {
    if (checkpointEveryRecords < 1) {
      throw new IllegalArgumentException(
          "audit checkpoint_every_records must be >= 1, was " + checkpointEveryRecords);
    }
    if (checkpointIntervalMs < 1) {
      throw new IllegalArgumentException(
          "audit checkpoint_interval_ms must be >= 1, was " + checkpointIntervalMs);
    }
  }
}

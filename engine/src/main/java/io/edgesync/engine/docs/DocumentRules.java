package io.edgesync.engine.docs;

import io.edgesync.protocol.ProtocolLimits;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cloud's document settings: the declared collections with their conflict policies, the size
 * limit, and what to do with a change stamped too far in the future.
 *
 * @param collections declared collections; a write to any other is refused
 * @param maxDocumentBytes largest JSON value accepted
 * @param maxClockDriftMs an edge HLC more than this ahead of the cloud's clock is suspect
 * @param rejectDriftingClocks true: such a change opens a conflict instead of being applied; false:
 *     it is applied (flagged in the audit) without moving the cloud's clock forward
 * @param deduplicate a non-concurrent edge change equal to the current value makes no new version
 *     (the device gets the current version as its outcome; the brief's {@code
 *     bandwidth.deduplication})
 * @param deviceWritable the shared documents devices may write, as {@code <scope>/<collection>}
 *     patterns ({@link DeviceWrites}); empty: devices write only their own scope
 */
public record DocumentRules(
    Map<String, ConflictPolicy> collections,
    int maxDocumentBytes,
    long maxClockDriftMs,
    boolean rejectDriftingClocks,
    boolean deduplicate,
    DeviceWrites deviceWritable) {

  public DocumentRules {
    collections = java.util.Collections.unmodifiableMap(new TreeMap<>(collections));
    if (maxDocumentBytes < 2 || maxDocumentBytes > ProtocolLimits.MAX_DOCUMENT_BYTES_CEILING) {
      throw new IllegalArgumentException("maxDocumentBytes out of range: " + maxDocumentBytes);
    }
    java.util.Objects.requireNonNull(deviceWritable, "deviceWritable");
  }

  /** Devices write only their own scope (the constructor before issue 12). */
  public DocumentRules(
      Map<String, ConflictPolicy> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean rejectDriftingClocks,
      boolean deduplicate) {
    this(
        collections,
        maxDocumentBytes,
        maxClockDriftMs,
        rejectDriftingClocks,
        deduplicate,
        DeviceWrites.NONE);
  }

  /** With deduplication on (the constructor before issue 5). */
  public DocumentRules(
      Map<String, ConflictPolicy> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean rejectDriftingClocks) {
    this(collections, maxDocumentBytes, maxClockDriftMs, rejectDriftingClocks, true);
  }

  public DocumentRules withDeduplicate(boolean on) {
    return new DocumentRules(
        collections, maxDocumentBytes, maxClockDriftMs, rejectDriftingClocks, on, deviceWritable);
  }

  /** These rules, with devices allowed to write the shared documents {@code writes} names. */
  public DocumentRules withDeviceWritable(DeviceWrites writes) {
    return new DocumentRules(
        collections, maxDocumentBytes, maxClockDriftMs, rejectDriftingClocks, deduplicate, writes);
  }

  public static DocumentRules of(Map<String, ConflictPolicy> collections) {
    return new DocumentRules(
        collections, ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES, 300_000, false);
  }

  /** The collection's policy, or null if it is not declared. */
  public ConflictPolicy policy(String collection) {
    return collections.get(collection);
  }
}

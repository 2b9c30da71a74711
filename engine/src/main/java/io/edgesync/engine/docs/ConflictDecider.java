package io.edgesync.engine.docs;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.protocol.Hlc;
import java.util.List;
import java.util.Objects;

/**
 * Decides what an edge document change does to the cloud's current version: a pure function, so
 * that every conflict is decided the same way wherever and however often it is replayed.
 *
 * <p>Concurrency is detected by base version, never by clocks. The cloud's current version is
 * concurrent with the change when a writer other than the change's device wrote a version after the
 * change's base: {@code current.writer != device && base < current.version}, or, when the device
 * itself wrote the current version, {@code base < current.foreignVersion} (the last version written
 * by someone else before the device's own run of writes). A device that edits the same key twice
 * before hearing back therefore does not conflict with itself.
 */
public final class ConflictDecider {
  private ConflictDecider() {}

  /**
   * The cloud's current version of a key.
   *
   * @param value null when deleted
   * @param writer the device id that wrote it, or {@link #CLOUD}
   * @param foreignVersion when {@code writer} is a device: the last version before it that another
   *     writer made (0 if none)
   */
  public record Current(
      long version,
      JsonNode value,
      Hlc hlc,
      String writer,
      long foreignVersion,
      boolean conflicted) {}

  /** An edge change; {@code value} null = delete. */
  public record Change(
      String deviceId, long changeSeq, long baseVersion, Hlc hlc, JsonNode value) {}

  public enum Kind {
    /** Not concurrent: the change is the new version. */
    FAST_FORWARD,
    /** Concurrent, decided automatically. */
    RESOLVED,
    /** Concurrent, left for a person: the cloud value stays and a conflict is open. */
    OPEN
  }

  /**
   * @param value the new version's value (null = deleted)
   * @param outcome {@code edge}, {@code cloud}, {@code merged}, {@code custom} or {@code open}
   * @param writer who the new version is attributed to (the device when its value won whole)
   * @param foreignVersion see {@link Current#foreignVersion}
   * @param fieldConflicts under merge: JSON paths changed on both sides
   * @param flagged the resolution is marked for review
   * @param note why, when it is not obvious from the outcome
   */
  public record Decision(
      Kind kind,
      JsonNode value,
      String outcome,
      String writer,
      long foreignVersion,
      List<String> fieldConflicts,
      boolean flagged,
      String note) {}

  public static final String CLOUD = "$cloud";

  /** Whether a version (by its writer) was written after the change's base by someone else. */
  public static boolean concurrent(
      String writer, long version, long foreignVersion, Change change) {
    return writer.equals(change.deviceId())
        ? change.baseVersion() < foreignVersion
        : change.baseVersion() < version;
  }

  /**
   * @param current null when the key has no version (never written, or its tombstone collected)
   * @param base the value at the change's base version, null if deleted, absent or no longer known
   */
  public static Decision decide(
      Current current,
      JsonNode base,
      Change change,
      ConflictPolicy policy,
      String scope,
      String collection,
      String key) {
    if (current == null) {
      return fastForward(change, 0);
    }
    if (current.conflicted()) {
      return open(
          current,
          change,
          "the document already has an open conflict; the edge value"
              + " replaces the one waiting in it");
    }
    if (!concurrent(current.writer(), current.version(), current.foreignVersion(), change)) {
      long foreign =
          current.writer().equals(change.deviceId()) ? current.foreignVersion() : current.version();
      return fastForward(change, foreign);
    }
    if (Objects.equals(current.value(), change.value())) {
      // Both sides made the same edit: nothing to decide.
      return fastForward(
          change,
          current.writer().equals(change.deviceId())
              ? current.foreignVersion()
              : current.version());
    }
    if (!policy.autoResolve()) {
      return open(current, change, "auto_resolve is off: every conflict waits for review");
    }
    boolean edgeLater = change.hlc().after(current.hlc());
    return switch (policy.strategy()) {
      case LAST_WRITE_WINS -> byHlc(current, change, policy, edgeLater, null);
      case CLOUD_WINS ->
          resolved(current, change, policy, current.value(), "cloud", List.of(), null);
      case EDGE_WINS -> resolved(current, change, policy, change.value(), "edge", List.of(), null);
      case MANUAL -> open(current, change, null);
      case MERGE -> merge(current, base, change, policy, edgeLater);
      case CUSTOM -> custom(current, base, change, policy, scope, collection, key);
    };
  }

  private static Decision merge(
      Current current, JsonNode base, Change change, ConflictPolicy policy, boolean edgeLater) {
    JsonDocs.MergeResult m = JsonDocs.merge(base, change.value(), current.value(), edgeLater);
    if (m == null) {
      return byHlc(current, change, policy, edgeLater, "not both JSON objects: decided by HLC");
    }
    if (!m.conflictingPaths().isEmpty() && policy.flagFieldConflicts()) {
      JsonDocs.MergeResult cloudSide = JsonDocs.merge(base, change.value(), current.value(), false);
      return new Decision(
          Kind.OPEN,
          cloudSide.value(),
          "open",
          CLOUD,
          0,
          m.conflictingPaths(),
          true,
          "fields changed on both sides: " + String.join(", ", m.conflictingPaths()));
    }
    return resolved(current, change, policy, m.value(), "merged", m.conflictingPaths(), null);
  }

  private static Decision custom(
      Current current,
      JsonNode base,
      Change change,
      ConflictPolicy policy,
      String scope,
      String collection,
      String key) {
    JsonNode result;
    try {
      result =
          policy
              .resolver()
              .resolve(
                  new ConflictResolver.Conflict(
                      scope,
                      collection,
                      key,
                      change.deviceId(),
                      base,
                      current.value(),
                      current.hlc(),
                      change.value(),
                      change.hlc()));
    } catch (RuntimeException e) {
      return open(current, change, "custom resolver " + policy.resolverName() + " failed: " + e);
    }
    return resolved(current, change, policy, result, "custom", List.of(), null);
  }

  private static Decision byHlc(
      Current current, Change change, ConflictPolicy policy, boolean edgeLater, String note) {
    return edgeLater
        ? resolved(current, change, policy, change.value(), "edge", List.of(), note)
        : resolved(current, change, policy, current.value(), "cloud", List.of(), note);
  }

  private static Decision resolved(
      Current current,
      Change change,
      ConflictPolicy policy,
      JsonNode value,
      String outcome,
      List<String> fieldConflicts,
      String note) {
    boolean edgeWhole = Objects.equals(value, change.value());
    return new Decision(
        Kind.RESOLVED,
        value,
        outcome,
        edgeWhole ? change.deviceId() : CLOUD,
        // The device's value won whole: its later edits made on the same base follow from it.
        edgeWhole ? change.baseVersion() : 0,
        fieldConflicts,
        policy.flagForReview(),
        note);
  }

  private static Decision fastForward(Change change, long foreignVersion) {
    return new Decision(
        Kind.FAST_FORWARD,
        change.value(),
        "edge",
        change.deviceId(),
        foreignVersion,
        List.of(),
        false,
        null);
  }

  private static Decision open(Current current, Change change, String note) {
    return new Decision(Kind.OPEN, current.value(), "open", CLOUD, 0, List.of(), true, note);
  }
}

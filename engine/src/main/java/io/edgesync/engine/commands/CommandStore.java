package io.edgesync.engine.commands;

import java.util.List;

/**
 * Where the cloud keeps commands for devices. Thread safe; every method is durable when it returns.
 *
 * <p>States: {@code queued} (not yet confirmed by the device; resent on every session) → {@code
 * delivered} (the device stored it) → {@code succeeded} | {@code failed}; a queued command whose
 * TTL passes becomes {@code expired} and is never sent; a delivered one whose TTL passes on the
 * device is reported {@code expired} by it and never run.
 */
public interface CommandStore {
  String QUEUED = "queued";
  String DELIVERED = "delivered";
  String SUCCEEDED = "succeeded";
  String FAILED = "failed";
  String EXPIRED = "expired";

  StoredCommand create(String deviceId, String name, byte[] payload, long ttlMs, long nowMs);

  /** Null if unknown. A queued command past its TTL is marked expired first. */
  StoredCommand command(String id, long nowMs);

  List<StoredCommand> commands(String deviceId, int limit, long nowMs);

  /**
   * Queued commands of the device that have not expired, oldest first (expired ones are marked).
   */
  List<StoredCommand> deliverable(String deviceId, int limit, long nowMs);

  /**
   * Applies a state the device reported. Returns the command afterwards, or null if the device has
   * no command of that id. A final state is never replaced, with one exception: a command the cloud
   * marked expired itself after sending it (the device had not confirmed it when its TTL passed)
   * takes the final state the device reports, since the device's deadline starts on arrival and it
   * may have run the command in time.
   */
  StoredCommand report(
      String deviceId, String id, String state, byte[] result, String error, long nowMs);

  /** Counts a delivery attempt (a Command frame sent). */
  void sent(String id, long nowMs);

  record StoredCommand(
      String id,
      String deviceId,
      String name,
      byte[] payload,
      long createdMs,
      long expiresMs,
      String state,
      byte[] result,
      String error,
      int deliveries,
      long updatedMs) {
    public boolean isFinal() {
      return state.equals(SUCCEEDED) || state.equals(FAILED) || state.equals(EXPIRED);
    }
  }
}

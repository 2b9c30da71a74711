package io.edgesync.engine.testing;

import io.edgesync.engine.commands.CommandStore;
import java.util.List;

/**
 * A {@link CommandStore} that passes every call on; a test overrides a method to plant a fault or a
 * bug. Thread safe if the delegate is.
 */
public class ForwardingCommandStore implements CommandStore {
  protected final CommandStore delegate;

  public ForwardingCommandStore(CommandStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public StoredCommand create(
      String deviceId, String name, byte[] payload, long ttlMs, long nowMs) {
    return delegate.create(deviceId, name, payload, ttlMs, nowMs);
  }

  @Override
  public StoredCommand command(String id, long nowMs) {
    return delegate.command(id, nowMs);
  }

  @Override
  public List<StoredCommand> commands(String deviceId, int limit, long nowMs) {
    return delegate.commands(deviceId, limit, nowMs);
  }

  @Override
  public List<StoredCommand> deliverable(String deviceId, int limit, long nowMs) {
    return delegate.deliverable(deviceId, limit, nowMs);
  }

  @Override
  public StoredCommand report(
      String deviceId, String id, String state, byte[] result, String error, long nowMs) {
    return delegate.report(deviceId, id, state, result, error, nowMs);
  }

  @Override
  public void sent(String id, long nowMs) {
    delegate.sent(id, nowMs);
  }
}

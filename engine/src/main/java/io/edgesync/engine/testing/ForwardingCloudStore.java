package io.edgesync.engine.testing;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.dict.DictionaryStore;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link CloudStore} that passes every call on, the interface's default methods too (a session
 * commits through {@link #commitRecords(String, String, List, long, WireBytes)}); a test overrides
 * a method to plant a fault or a bug. Thread safe if the delegate is.
 */
public class ForwardingCloudStore implements CloudStore {
  protected final CloudStore delegate;

  public ForwardingCloudStore(CloudStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public Optional<Device> device(String deviceId) {
    return delegate.device(deviceId);
  }

  @Override
  public Device registerDevice(String deviceId, long nowMs) {
    return delegate.registerDevice(deviceId, nowMs);
  }

  @Override
  public String bindStore(String deviceId, String storeId) {
    return delegate.bindStore(deviceId, storeId);
  }

  @Override
  public Optional<String> boundStore(String deviceId) {
    return delegate.boundStore(deviceId);
  }

  @Override
  public long claimSession(String deviceId, long nowMs) {
    return delegate.claimSession(deviceId, nowMs);
  }

  @Override
  public void touchDevice(String deviceId, long nowMs) {
    delegate.touchDevice(deviceId, nowMs);
  }

  @Override
  public Map<String, Long> checkpoints(String deviceId) {
    return delegate.checkpoints(deviceId);
  }

  @Override
  public long commitRecords(String deviceId, String stream, List<Record> records, long nowMs)
      throws SequenceException {
    return delegate.commitRecords(deviceId, stream, records, nowMs);
  }

  @Override
  public long commitRecords(
      String deviceId, String stream, List<Record> records, long nowMs, WireBytes wire)
      throws SequenceException {
    return delegate.commitRecords(deviceId, stream, records, nowMs, wire);
  }

  @Override
  public long commitGap(
      String deviceId,
      String stream,
      long firstSequence,
      long lastSequence,
      GapReason reason,
      long droppedAtMs,
      long nowMs)
      throws SequenceException {
    return delegate.commitGap(
        deviceId, stream, firstSequence, lastSequence, reason, droppedAtMs, nowMs);
  }

  @Override
  public List<Device> devices() {
    return delegate.devices();
  }

  @Override
  public List<StreamSummary> streams(String deviceId) {
    return delegate.streams(deviceId);
  }

  @Override
  public List<StoredGap> gaps(String deviceId, String stream) {
    return delegate.gaps(deviceId, stream);
  }

  @Override
  public List<Record> read(String deviceId, String stream, long afterSequence, int limit) {
    return delegate.read(deviceId, stream, afterSequence, limit);
  }

  @Override
  public DocumentStore documents() {
    return delegate.documents();
  }

  @Override
  public DictionaryStore dictionaries() {
    return delegate.dictionaries();
  }

  @Override
  public CommandStore commands() {
    return delegate.commands();
  }

  @Override
  public void close() {
    delegate.close();
  }
}

package io.edgesync.engine.testing;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * An in-memory {@link CloudStore} that keeps the interface's idempotency contract: records at or
 * below a stream's checkpoint are skipped, a commit starting beyond checkpoint + 1 throws {@link
 * SequenceException} and stores nothing. It also asserts the negative space the session must
 * respect: records handed to one commit are consecutive, and gaps are not empty. Every commit that
 * stored something is logged through {@code events}. Thread safe by synchronization, like the real
 * stores.
 */
public final class InMemoryCloudStore implements CloudStore {
  private final Map<String, Device> devices = new TreeMap<>();
  private final Map<String, Map<String, StreamData>> data = new TreeMap<>();
  private final Consumer<String> events;
  private RuntimeException failNextCommit;

  private static final class StreamData {
    final TreeMap<Long, Record> records = new TreeMap<>();
    final List<StoredGap> gaps = new ArrayList<>();
    long checkpoint;
  }

  public InMemoryCloudStore(Consumer<String> events) {
    this.events = events;
  }

  public InMemoryCloudStore() {
    this(e -> {});
  }

  /** Makes the next commit throw {@code failure} (a disk or database fault) and store nothing. */
  public synchronized void failNextCommit(RuntimeException failure) {
    this.failNextCommit = failure;
  }

  /** Everything stored, as comparable text: proves "store unchanged" after bad input. */
  public synchronized String snapshot() {
    StringBuilder sb = new StringBuilder(devices.keySet().toString());
    data.forEach(
        (device, streams) ->
            streams.forEach(
                (stream, s) ->
                    sb.append(' ')
                        .append(device)
                        .append('/')
                        .append(stream)
                        .append(" cp=")
                        .append(s.checkpoint)
                        .append(" records=")
                        .append(s.records.values())
                        .append(" gaps=")
                        .append(s.gaps)));
    return sb.toString();
  }

  private final Map<String, String> stores = new java.util.HashMap<>();

  @Override
  public synchronized String bindStore(String deviceId, String storeId) {
    return stores.computeIfAbsent(deviceId, d -> storeId);
  }

  @Override
  public synchronized Optional<String> boundStore(String deviceId) {
    return Optional.ofNullable(stores.get(deviceId));
  }

  @Override
  public synchronized Optional<Device> device(String deviceId) {
    return Optional.ofNullable(devices.get(deviceId));
  }

  @Override
  public synchronized Device registerDevice(String deviceId, long nowMs) {
    return devices.computeIfAbsent(deviceId, id -> new Device(id, nowMs, nowMs));
  }

  @Override
  public synchronized void touchDevice(String deviceId, long nowMs) {
    Device d = devices.get(deviceId);
    if (d != null) {
      devices.put(deviceId, new Device(deviceId, d.registeredAtMs(), nowMs));
    }
  }

  @Override
  public synchronized Map<String, Long> checkpoints(String deviceId) {
    Map<String, Long> out = new LinkedHashMap<>();
    data.getOrDefault(deviceId, Map.of()).forEach((stream, s) -> out.put(stream, s.checkpoint));
    return out;
  }

  /** What each batch cost on the wire, per stream, as the session reported it. */
  private final Map<String, List<WireBytes>> wire = new TreeMap<>();

  /** What each batch of {@code stream} cost on the wire, oldest first (empty if none). */
  public synchronized List<WireBytes> wireBytes(String stream) {
    return List.copyOf(wire.getOrDefault(stream, List.of()));
  }

  @Override
  public synchronized long commitRecords(
      String deviceId, String stream, List<Record> records, long nowMs, WireBytes bytes)
      throws SequenceException {
    long checkpoint = commitRecords(deviceId, stream, records, nowMs);
    wire.computeIfAbsent(stream, k -> new ArrayList<>()).add(bytes);
    return checkpoint;
  }

  @Override
  public synchronized long commitRecords(
      String deviceId, String stream, List<Record> records, long nowMs) throws SequenceException {
    if (records.isEmpty()) {
      throw new IllegalArgumentException("empty commit");
    }
    for (int i = 1; i < records.size(); i++) {
      if (records.get(i).sequence() != records.get(i - 1).sequence() + 1) {
        throw new IllegalArgumentException("records are not consecutive: " + records);
      }
    }
    checkFault();
    checkContinues(deviceId, stream, records.get(0).sequence());
    StreamData s = stream(deviceId, stream);
    List<Record> fresh = records.stream().filter(r -> r.sequence() > s.checkpoint).toList();
    if (fresh.isEmpty()) {
      return s.checkpoint;
    }
    for (Record r : fresh) {
      s.records.put(r.sequence(), r);
    }
    s.checkpoint = fresh.get(fresh.size() - 1).sequence();
    events.accept(
        "commit "
            + stream
            + " "
            + fresh.get(0).sequence()
            + ".."
            + fresh.get(fresh.size() - 1).sequence());
    return s.checkpoint;
  }

  @Override
  public synchronized long commitGap(
      String deviceId,
      String stream,
      long firstSequence,
      long lastSequence,
      GapReason reason,
      long droppedAtMs,
      long nowMs)
      throws SequenceException {
    if (lastSequence < firstSequence || firstSequence < 1) {
      throw new IllegalArgumentException("bad gap " + firstSequence + ".." + lastSequence);
    }
    reason.getNumber(); // like a real store: an UNRECOGNIZED reason cannot be written
    checkFault();
    checkContinues(deviceId, stream, firstSequence);
    StreamData s = stream(deviceId, stream);
    if (lastSequence <= s.checkpoint) {
      return s.checkpoint;
    }
    long first = Math.max(firstSequence, s.checkpoint + 1);
    s.gaps.add(new StoredGap(first, lastSequence, reason, droppedAtMs, nowMs));
    s.checkpoint = lastSequence;
    events.accept("commit gap " + stream + " " + first + ".." + lastSequence);
    return s.checkpoint;
  }

  @Override
  public synchronized List<Device> devices() {
    return List.copyOf(devices.values());
  }

  @Override
  public synchronized List<StreamSummary> streams(String deviceId) {
    List<StreamSummary> out = new ArrayList<>();
    data.getOrDefault(deviceId, Map.of())
        .forEach(
            (stream, s) -> {
              long bytes = 0;
              for (Record r : s.records.values()) {
                bytes += r.payload().length;
              }
              long dropped = 0;
              for (StoredGap g : s.gaps) {
                dropped += g.lastSequence() - g.firstSequence() + 1;
              }
              out.add(
                  new StreamSummary(
                      stream, s.checkpoint, s.records.size(), bytes, s.gaps.size(), dropped));
            });
    return out;
  }

  @Override
  public synchronized List<StoredGap> gaps(String deviceId, String stream) {
    StreamData s = data.getOrDefault(deviceId, Map.of()).get(stream);
    return s == null ? List.of() : List.copyOf(s.gaps);
  }

  @Override
  public synchronized List<Record> read(
      String deviceId, String stream, long afterSequence, int limit) {
    StreamData s = data.getOrDefault(deviceId, Map.of()).get(stream);
    if (s == null) {
      return List.of();
    }
    return s.records.tailMap(afterSequence, false).values().stream().limit(limit).toList();
  }

  @Override
  public void close() {}

  private StreamData stream(String deviceId, String stream) {
    return data.computeIfAbsent(deviceId, d -> new TreeMap<>())
        .computeIfAbsent(stream, n -> new StreamData());
  }

  private void checkFault() {
    RuntimeException f = failNextCommit;
    if (f != null) {
      failNextCommit = null;
      throw f;
    }
  }

  /** Checks before anything is created, so a refused commit leaves no trace. */
  private void checkContinues(String deviceId, String stream, long first) throws SequenceException {
    if (!devices.containsKey(deviceId)) {
      throw new IllegalStateException("commit for unregistered device " + deviceId);
    }
    long checkpoint = checkpoints(deviceId).getOrDefault(stream, 0L);
    if (first > checkpoint + 1) {
      throw new SequenceException(
          "stream '"
              + stream
              + "' of device '"
              + deviceId
              + "' continues at sequence "
              + (checkpoint + 1)
              + " but the frame starts at "
              + first);
    }
  }
}

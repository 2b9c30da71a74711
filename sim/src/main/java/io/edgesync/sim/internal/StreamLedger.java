package io.edgesync.sim.internal;

import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Record;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reference model of the edges' streams, kept beside the real outboxes: every record a stream
 * holds (with the sequence and origin time the outbox must have given it), which appends the
 * application heard succeed, which records the overflow policy must have dropped, and what is still
 * queued. It follows the outbox's documented rules (sequences in append order; {@code drop_oldest}
 * drops lowest priority first, oldest first, exactly as many records and bytes as the append went
 * over; {@code reject} and appends larger than the whole queue store nothing) and is compared with
 * the real outbox after every append, crash and restart. Not thread safe.
 */
public final class StreamLedger {

  /** One stream of one device. */
  public static final class StreamModel {
    final String name;
    final int priority;

    /** Index {@code seq - 1}: every assigned sequence belongs to a durable record. */
    final ArrayList<Record> records = new ArrayList<>();

    /** Sequences whose append the application heard succeed. */
    final BitSet heard = new BitSet();

    /** Sequences the overflow policy dropped on the edge. */
    final BitSet dropped = new BitSet();

    /** Records neither acknowledged by the cloud nor dropped, oldest first. */
    final ArrayDeque<Record> queued = new ArrayDeque<>();

    long queuedBytes;
    long ackedSeq;

    StreamModel(String name, int priority) {
      this.name = name;
      this.priority = priority;
    }

    public long lastSeq() {
      return records.size();
    }

    public Record record(long seq) {
      return records.get((int) (seq - 1));
    }

    /** How many records the overflow policy dropped so far. */
    public long droppedCount() {
      return dropped.cardinality();
    }

    public boolean wasDropped(long seq) {
      return dropped.get((int) seq);
    }

    public boolean wasHeard(long seq) {
      return heard.get((int) seq);
    }
  }

  /** One device's streams and queue limits. */
  public static final class DeviceModel {
    final String deviceId;
    final OutboxLimits limits;
    final Map<String, Integer> priorities;
    final int undeclaredPriority;
    final TreeMap<String, StreamModel> streams = new TreeMap<>();

    DeviceModel(
        String deviceId,
        OutboxLimits limits,
        Map<String, Integer> priorities,
        int undeclaredPriority) {
      this.deviceId = deviceId;
      this.limits = limits;
      this.priorities = priorities;
      this.undeclaredPriority = undeclaredPriority;
      priorities.keySet().forEach(this::stream);
    }

    StreamModel stream(String name) {
      return streams.computeIfAbsent(
          name, n -> new StreamModel(n, priorities.getOrDefault(n, undeclaredPriority)));
    }

    public Map<String, StreamModel> streams() {
      return streams;
    }
  }

  /** What the model says an append must do. */
  public enum Outcome {
    STORED,
    REJECTED
  }

  private final Map<String, DeviceModel> devices = new TreeMap<>();

  public DeviceModel addDevice(
      String deviceId,
      OutboxLimits limits,
      Map<String, Integer> priorities,
      int undeclaredPriority) {
    DeviceModel d = new DeviceModel(deviceId, limits, priorities, undeclaredPriority);
    devices.put(deviceId, d);
    return d;
  }

  public DeviceModel device(String deviceId) {
    return devices.get(deviceId);
  }

  public Map<String, DeviceModel> devices() {
    return devices;
  }

  /**
   * Takes the acknowledged sequences from the outbox's published counters. They may only grow (an
   * acknowledgement is durable before the outbox returns) and never pass the last sequence.
   */
  public void syncAcks(DeviceModel d, List<Outbox.StreamState> snapshot) {
    for (Outbox.StreamState s : snapshot) {
      StreamModel m = d.streams.get(s.name());
      if (m == null) {
        throw new SimFailure(
            d.deviceId + ": the outbox has a stream '" + s.name() + "' nobody appended to");
      }
      if (s.ackedSequence() < m.ackedSeq) {
        throw new SimFailure(
            d.deviceId
                + "/"
                + m.name
                + ": acknowledged sequence went back from "
                + m.ackedSeq
                + " to "
                + s.ackedSequence()
                + " (an acknowledgement was not durable)");
      }
      if (s.ackedSequence() > m.lastSeq()) {
        throw new SimFailure(
            d.deviceId
                + "/"
                + m.name
                + ": acknowledged up to "
                + s.ackedSequence()
                + " but only "
                + m.lastSeq()
                + " records were ever stored");
      }
      m.ackedSeq = s.ackedSequence();
      while (!m.queued.isEmpty() && m.queued.peekFirst().sequence() <= m.ackedSeq) {
        m.queuedBytes -= m.queued.pollFirst().payload().length;
      }
    }
  }

  /** What an append of {@code payloads} to {@code stream} must do, given the current queue. */
  public Outcome predict(DeviceModel d, String stream, List<byte[]> payloads) {
    long n = payloads.size();
    long bytes = bytes(payloads);
    OutboxLimits l = d.limits;
    if (n > l.maxQueueRecords() || bytes > l.maxQueueBytes()) {
      return Outcome.REJECTED;
    }
    if (l.overflowPolicy() == OverflowPolicy.REJECT) {
      long records = 0;
      long queuedBytes = 0;
      for (StreamModel m : d.streams.values()) {
        records += m.queued.size();
        queuedBytes += m.queuedBytes;
      }
      if (records + n > l.maxQueueRecords() || queuedBytes + bytes > l.maxQueueBytes()) {
        return Outcome.REJECTED;
      }
    }
    return Outcome.STORED;
  }

  /**
   * Records a stored append: its records get the next sequences, and {@code drop_oldest} removes
   * what no longer fits. Returns the number of records dropped.
   */
  public long applyStored(
      DeviceModel d, String stream, List<byte[]> payloads, long originMs, boolean heard) {
    StreamModel m = d.stream(stream);
    for (byte[] p : payloads) {
      Record r = new Record(m.lastSeq() + 1, originMs, p);
      m.records.add(r);
      m.queued.addLast(r);
      m.queuedBytes += p.length;
      if (heard) {
        m.heard.set((int) r.sequence());
      }
    }
    if (d.limits.overflowPolicy() != OverflowPolicy.DROP_OLDEST) {
      return 0;
    }
    long records = 0;
    long bytes = 0;
    for (StreamModel s : d.streams.values()) {
      records += s.queued.size();
      bytes += s.queuedBytes;
    }
    long overRecords = Math.max(0, records - d.limits.maxQueueRecords());
    long overBytes = Math.max(0, bytes - d.limits.maxQueueBytes());
    if (overRecords == 0 && overBytes == 0) {
      return 0;
    }
    List<StreamModel> victims = new ArrayList<>(d.streams.values());
    victims.sort(
        Comparator.comparingInt((StreamModel s) -> s.priority)
            .reversed()
            .thenComparing(s -> s.name));
    long freedRecords = 0;
    long freedBytes = 0;
    for (StreamModel v : victims) {
      while ((freedRecords < overRecords || freedBytes < overBytes) && !v.queued.isEmpty()) {
        Record r = v.queued.pollFirst();
        v.queuedBytes -= r.payload().length;
        v.dropped.set((int) r.sequence());
        freedRecords++;
        freedBytes += r.payload().length;
      }
    }
    return freedRecords;
  }

  /** The outbox's published counters must equal the model's, stream by stream. */
  public void compare(DeviceModel d, List<Outbox.StreamState> snapshot, String when) {
    int seen = 0;
    for (Outbox.StreamState s : snapshot) {
      StreamModel m = d.streams.get(s.name());
      if (m == null) {
        throw new SimFailure(
            d.deviceId + " " + when + ": outbox has unknown stream '" + s.name() + "'");
      }
      seen++;
      if (s.lastSequence() != m.lastSeq()
          || s.ackedSequence() != m.ackedSeq
          || s.queuedRecords() != m.queued.size()
          || s.queuedBytes() != m.queuedBytes
          || s.priority() != m.priority) {
        throw new SimFailure(
            d.deviceId
                + "/"
                + m.name
                + " "
                + when
                + ": outbox says last="
                + s.lastSequence()
                + " acked="
                + s.ackedSequence()
                + " queued="
                + s.queuedRecords()
                + "/"
                + s.queuedBytes()
                + "B priority="
                + s.priority()
                + ", the model says last="
                + m.lastSeq()
                + " acked="
                + m.ackedSeq
                + " queued="
                + m.queued.size()
                + "/"
                + m.queuedBytes
                + "B priority="
                + m.priority);
      }
    }
    for (StreamModel m : d.streams.values()) {
      if (m.lastSeq() > 0 || d.priorities.containsKey(m.name)) {
        seen--;
      }
    }
    if (seen != 0) {
      throw new SimFailure(
          d.deviceId
              + " "
              + when
              + ": the outbox lists "
              + snapshot.size()
              + " streams, the model "
              + d.streams.keySet());
    }
  }

  static long bytes(List<byte[]> payloads) {
    long b = 0;
    for (byte[] p : payloads) {
      b += p.length;
    }
    return b;
  }
}

package io.edgesync.engine.testing;

import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * An in-memory {@link Outbox} with the agent's SQLite outbox semantics: records are pruned once
 * acknowledged, an ack at or below the acknowledged sequence is ignored and one beyond the last
 * sequence is refused, dropped ranges are read back as gaps starting at the requested sequence.
 * Records every {@link #acknowledge} and {@link #markNotRetained} call ("stream:sequence"), and
 * keeps the daily budget and dictionaries saved into it. Not thread safe.
 */
public final class InMemoryOutbox implements Outbox {
  @Override
  public String storeId() {
    return "in-memory-store";
  }

  private final Clock clock;
  private final Map<String, StreamData> streams = new LinkedHashMap<>();
  private final List<String> acknowledgeCalls = new ArrayList<>();
  private final List<String> markNotRetainedCalls = new ArrayList<>();

  private static final class StreamData {
    final String name;
    final int priority;
    final NavigableMap<Long, Record> records = new TreeMap<>();
    final NavigableMap<Long, Item.Gap> gaps = new TreeMap<>();
    final Map<Long, Record> history = new java.util.HashMap<>();
    final java.util.Set<Long> dropped = new java.util.HashSet<>();
    long lastSequence;
    long ackedSequence;

    StreamData(String name, int priority) {
      this.name = name;
      this.priority = priority;
    }
  }

  public InMemoryOutbox(Clock clock) {
    this.clock = clock;
  }

  /** Declares a stream with a priority (lower is sent first); streams default to priority 5. */
  public InMemoryOutbox stream(String name, int priority) {
    if (!ProtocolLimits.isValidStreamName(name)) {
      throw new IllegalArgumentException("bad stream name " + name);
    }
    streams.computeIfAbsent(name, n -> new StreamData(n, priority));
    return this;
  }

  /**
   * Appends {@code count} records of {@code payloadBytes} bytes each; returns the last sequence.
   */
  public long append(String stream, int count, int payloadBytes) {
    StreamData s = data(stream);
    for (int i = 0; i < count; i++) {
      long seq = ++s.lastSequence;
      byte[] payload = new byte[payloadBytes];
      for (int k = 0; k < payloadBytes; k++) {
        payload[k] = (byte) (seq + k);
      }
      Record r = new Record(seq, clock.nowMs(), payload);
      s.records.put(seq, r);
      s.history.put(seq, r);
    }
    return s.lastSequence;
  }

  public long append(String stream, int count) {
    return append(stream, count, 8);
  }

  /** Appends the given payloads (JSON, say) stamped now; returns the last sequence. */
  public long appendPayloads(String stream, List<byte[]> payloads) {
    StreamData s = data(stream);
    for (byte[] p : payloads) {
      long seq = ++s.lastSequence;
      Record r = new Record(seq, clock.nowMs(), p);
      s.records.put(seq, r);
      s.history.put(seq, r);
    }
    return s.lastSequence;
  }

  /** The daily budget's saved state, as {@link #saveBudget} left it (null: never saved). */
  private SavedBudget budget;

  @Override
  public SavedBudget savedBudget() {
    return budget;
  }

  @Override
  public void saveBudget(long utcDay, long spentBytes) {
    budget = new SavedBudget(utcDay, spentBytes);
  }

  /** Saved dictionaries by stream, as {@link #saveDictionary} left them. */
  private final Map<String, SavedDictionary> dictionaries = new TreeMap<>();

  /** The dictionaries saved, by stream (the newest of each). */
  public Map<String, SavedDictionary> dictionaries() {
    return java.util.Collections.unmodifiableMap(dictionaries);
  }

  /** Every {@link #acknowledge} call so far, as "stream:sequence". */
  public List<String> acknowledgeCalls() {
    return java.util.Collections.unmodifiableList(acknowledgeCalls);
  }

  /** Every {@link #markNotRetained} call so far, as "stream:cloudCheckpoint". */
  public List<String> markNotRetainedCalls() {
    return java.util.Collections.unmodifiableList(markNotRetainedCalls);
  }

  @Override
  public List<SavedDictionary> savedDictionaries() {
    return List.copyOf(dictionaries.values());
  }

  @Override
  public void saveDictionary(String stream, int id, byte[] bytes) {
    dictionaries.put(stream, new SavedDictionary(stream, id, bytes.clone()));
  }

  /** Drops the queued records {@code first..last} as the overflow policy would, leaving a gap. */
  public void drop(String stream, long first, long last, GapReason reason) {
    StreamData s = data(stream);
    if (first <= s.ackedSequence || last > s.lastSequence || last < first) {
      throw new IllegalArgumentException("cannot drop " + first + ".." + last);
    }
    s.records.subMap(first, true, last, true).clear();
    s.gaps.put(first, new Item.Gap(first, last, reason, clock.nowMs()));
    for (long seq = first; seq <= last; seq++) {
      s.dropped.add(seq);
    }
  }

  /**
   * Drops up to {@code max} of the oldest unacknowledged records still held (as overflow policy
   * drop_oldest does, even if they are in flight); returns how many.
   */
  public int dropOldest(String stream, int max, GapReason reason) {
    StreamData s = data(stream);
    if (s.records.isEmpty()) {
      return 0;
    }
    long first = s.records.firstKey();
    long last = first;
    while (last - first + 1 < max && s.records.containsKey(last + 1)) {
      last++;
    }
    drop(stream, first, last, reason);
    return (int) (last - first + 1);
  }

  /** The record as it was appended, whatever happened to it since. */
  public Record original(String stream, long sequence) {
    return data(stream).history.get(sequence);
  }

  public boolean wasDropped(String stream, long sequence) {
    return data(stream).dropped.contains(sequence);
  }

  public long lastSequence(String stream) {
    return data(stream).lastSequence;
  }

  /** Sets the acknowledged sequence as a previous session left it, pruning what it covers. */
  public void preAcknowledged(String stream, long sequence) {
    StreamData s = data(stream);
    s.ackedSequence = sequence;
    s.records.headMap(sequence, true).clear();
    s.gaps.values().removeIf(g -> g.lastSequence() <= sequence);
  }

  public long acked(String stream) {
    return data(stream).ackedSequence;
  }

  private StreamData data(String stream) {
    stream(stream, 5);
    return streams.get(stream);
  }

  // ---------------------------------------------------------------- Outbox

  @Override
  public List<StreamState> streams() {
    List<StreamState> out = new ArrayList<>();
    for (StreamData s : streams.values()) {
      long bytes = 0;
      for (Record r : s.records.values()) {
        bytes += r.payload().length;
      }
      out.add(
          new StreamState(
              s.name, s.priority, s.lastSequence, s.ackedSequence, s.records.size(), bytes));
    }
    out.sort(Comparator.comparingInt(StreamState::priority).thenComparing(StreamState::name));
    return out;
  }

  @Override
  public Item read(String stream, long fromSequence, int maxRecords, long maxBytes) {
    StreamData s = streams.get(stream);
    if (s == null) {
      return null;
    }
    Item.Gap gap = gapAt(s, fromSequence);
    if (gap != null) {
      return gap;
    }
    List<Record> out = new ArrayList<>();
    long bytes = 0;
    long expected = fromSequence;
    while (out.size() < maxRecords) {
      Record r = s.records.get(expected);
      if (r == null || (!out.isEmpty() && bytes + r.payload().length > maxBytes)) {
        break;
      }
      out.add(r);
      bytes += r.payload().length;
      expected++;
    }
    return out.isEmpty() ? null : new Item.Records(out, bytes);
  }

  @Override
  public void acknowledge(String stream, long sequence) {
    acknowledgeCalls.add(stream + ":" + sequence);
    StreamData s = streams.get(stream);
    if (s == null || sequence <= s.ackedSequence) {
      return;
    }
    if (sequence > s.lastSequence) {
      throw new IllegalArgumentException(
          "ack of " + stream + " up to " + sequence + " beyond last sequence " + s.lastSequence);
    }
    preAcknowledged(stream, sequence);
  }

  @Override
  public Item.Gap markNotRetained(String stream, long cloudCheckpoint) {
    markNotRetainedCalls.add(stream + ":" + cloudCheckpoint);
    StreamData s = streams.get(stream);
    if (s == null || cloudCheckpoint >= s.ackedSequence) {
      return null;
    }
    Item.Gap gap =
        new Item.Gap(
            cloudCheckpoint + 1, s.ackedSequence, GapReason.GAP_REASON_NOT_RETAINED, clock.nowMs());
    s.gaps.put(gap.firstSequence(), gap);
    return gap;
  }

  private static Item.Gap gapAt(StreamData s, long sequence) {
    Map.Entry<Long, Item.Gap> e = s.gaps.floorEntry(sequence);
    if (e == null || e.getValue().lastSequence() < sequence) {
      return null;
    }
    Item.Gap g = e.getValue();
    return new Item.Gap(sequence, g.lastSequence(), g.reason(), g.droppedAtMs());
  }
}

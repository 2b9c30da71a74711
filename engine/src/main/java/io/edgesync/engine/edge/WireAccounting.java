package io.edgesync.engine.edge;

import io.edgesync.engine.edge.EdgeSyncEngine.WireStats;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What each stream's record batches cost on the wire, all time: loaded from the outbox at start,
 * counted per batch sent, and saved with each ack of the stream and at stop (the engine decides
 * when; this class remembers which streams have totals not yet saved).
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class WireAccounting {
  /** One stream's running totals (mutable: one batch adds to every field). */
  private static final class Totals {
    long batches;
    long records;
    long payloadBytes;
    long rawBytes;
    long encodedBytes;
    long frameBytes;

    static Totals of(WireStats w) {
      Totals t = new Totals();
      t.batches = w.batches();
      t.records = w.records();
      t.payloadBytes = w.payloadBytes();
      t.rawBytes = w.rawBytes();
      t.encodedBytes = w.encodedBytes();
      t.frameBytes = w.frameBytes();
      return t;
    }

    WireStats toStats() {
      return new WireStats(batches, records, payloadBytes, rawBytes, encodedBytes, frameBytes);
    }
  }

  private final Map<String, Totals> totals = new LinkedHashMap<>();

  /** Streams that sent batches since their totals were last saved. */
  private final Set<String> unsaved = new HashSet<>();

  /** Takes over the totals the outbox saved (at start). */
  void load(Map<String, WireStats> saved) {
    for (Map.Entry<String, WireStats> e : saved.entrySet()) {
      totals.put(e.getKey(), Totals.of(e.getValue()));
    }
  }

  /** Counts one record batch sent for {@code stream}. */
  void onBatch(
      String stream,
      long records,
      long payloadBytes,
      long rawBytes,
      long encodedBytes,
      long frameBytes) {
    Totals t = totals.computeIfAbsent(stream, k -> new Totals());
    t.batches++;
    t.records += records;
    t.payloadBytes += payloadBytes;
    t.rawBytes += rawBytes;
    t.encodedBytes += encodedBytes;
    t.frameBytes += frameBytes;
    unsaved.add(stream);
  }

  /** Frame bytes per record payload byte seen so far for the stream; 1 before any batch. */
  double frameBytesPerPayloadByte(String stream) {
    Totals t = totals.get(stream);
    return t == null || t.payloadBytes == 0 ? 1.0 : (double) t.frameBytes / t.payloadBytes;
  }

  /** Frame bytes per record seen so far for the stream; -1 before any record was sent. */
  double frameBytesPerRecord(String stream) {
    Totals t = totals.get(stream);
    return t == null || t.records == 0 ? -1 : (double) t.frameBytes / t.records;
  }

  WireStats stats(String stream) {
    Totals t = totals.get(stream);
    return t == null ? WireStats.ZERO : t.toStats();
  }

  /** Every stream's totals, in the order the streams were first seen. */
  Map<String, WireStats> all() {
    Map<String, WireStats> m = new LinkedHashMap<>();
    for (String stream : totals.keySet()) {
      m.put(stream, stats(stream));
    }
    return m;
  }

  /** The sum over every stream: the device's record batches. */
  WireStats total() {
    WireStats t = WireStats.ZERO;
    for (String stream : totals.keySet()) {
      t = t.plus(stats(stream));
    }
    return t;
  }

  /**
   * Acknowledges {@code stream} up to {@code sequence} in the outbox, with the stream's totals if
   * they changed since last saved (they count as saved from then).
   */
  void acknowledge(Outbox outbox, String stream, long sequence) {
    if (unsaved.remove(stream)) {
      outbox.acknowledge(stream, sequence, stats(stream));
    } else {
      outbox.acknowledge(stream, sequence);
    }
  }

  /** Saves the totals of every stream not saved since it last sent (at stop). */
  void saveUnsaved(Outbox outbox) {
    Map<String, WireStats> m = new LinkedHashMap<>();
    for (String stream : unsaved) {
      m.put(stream, stats(stream));
    }
    unsaved.clear();
    if (!m.isEmpty()) {
      outbox.saveWireStats(m);
    }
  }
}

package io.edgesync.agent.internal.outbox;

import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Record;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's sync log: per stream, the batches it sent, each with when its records were queued
 * (their origin times), when it was first sent, how often, and when the cloud acknowledged it. Kept
 * in memory only, the newest {@value #MAX_ENTRIES_PER_STREAM} batches of each stream and at most
 * {@value #MAX_STREAMS} streams: the outbox deletes records once acknowledged, and writing a row
 * per batch and ack to the device's disk would cost a write per batch for a view an operator reads
 * now and then. After a restart the log starts empty (docs/api.md says so).
 *
 * <p>Thread safe: the sync loop writes, the local API's threads read; every method holds this
 * object's monitor for a few dozen operations at most.
 */
public final class SyncLog {
  static final int MAX_ENTRIES_PER_STREAM = 1000;
  static final int MAX_STREAMS = 256;

  /** One batch (or gap) as sent; {@code ackedAtMs} 0 until acknowledged. */
  private static final class Entry {
    final long first;
    final long last;
    final int records;
    final long queuedFirstMs;
    final long queuedLastMs;
    final String gapReason; // null for records
    final long sentAtMs;
    long lastSentAtMs;
    int sends = 1;
    long ackedAtMs;

    Entry(Outbox.Item item, long nowMs) {
      first = item.firstSequence();
      last = item.lastSequence();
      sentAtMs = nowMs;
      lastSentAtMs = nowMs;
      if (item instanceof Outbox.Item.Records r) {
        List<Record> rs = r.records();
        records = rs.size();
        queuedFirstMs = rs.get(0).originMs();
        queuedLastMs = rs.get(rs.size() - 1).originMs();
        gapReason = null;
      } else {
        Outbox.Item.Gap g = (Outbox.Item.Gap) item;
        records = 0;
        queuedFirstMs = g.droppedAtMs();
        queuedLastMs = g.droppedAtMs();
        gapReason = g.reason().name();
      }
    }
  }

  private final Map<String, ArrayDeque<Entry>> streams = new HashMap<>();
  private final Map<String, Long> ackedThrough = new HashMap<>();

  /** {@code item} of {@code stream} goes out now (a resend of the same range counts a send). */
  synchronized void sent(String stream, Outbox.Item item, long nowMs) {
    ArrayDeque<Entry> log = streams.get(stream);
    if (log == null) {
      if (streams.size() >= MAX_STREAMS) {
        return;
      }
      log = new ArrayDeque<>();
      streams.put(stream, log);
    }
    for (Entry e : log) {
      if (e.first == item.firstSequence() && e.last == item.lastSequence()) {
        e.sends++;
        e.lastSentAtMs = nowMs;
        return;
      }
    }
    log.addLast(new Entry(item, nowMs));
    if (log.size() > MAX_ENTRIES_PER_STREAM) {
      log.removeFirst();
    }
  }

  /** The cloud acknowledged {@code stream} through {@code sequence}. */
  synchronized void acknowledged(String stream, long sequence, long nowMs) {
    ackedThrough.merge(stream, sequence, Math::max);
    ArrayDeque<Entry> log = streams.get(stream);
    if (log == null) {
      return;
    }
    for (Iterator<Entry> it = log.descendingIterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (e.last <= sequence && e.ackedAtMs == 0) {
        e.ackedAtMs = nowMs;
      }
    }
  }

  /**
   * The batches of {@code stream} holding sequences above {@code after}, oldest first, at most
   * {@code limit}, as JSON fields (docs/api.md, "Sync log").
   */
  public synchronized List<Map<String, Object>> entries(String stream, long after, int limit) {
    List<Map<String, Object>> out = new ArrayList<>();
    ArrayDeque<Entry> log = streams.get(stream);
    if (log == null) {
      return out;
    }
    for (Entry e : log) {
      if (e.last <= after) {
        continue;
      }
      if (out.size() == limit) {
        break;
      }
      out.add(json(e));
    }
    return out;
  }

  private static Map<String, Object> json(Entry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("firstSequence", e.first);
    m.put("lastSequence", e.last);
    if (e.gapReason == null) {
      m.put("records", e.records);
      m.put("queuedAtMs", e.queuedFirstMs);
      m.put("lastQueuedAtMs", e.queuedLastMs);
    } else {
      m.put("gap", e.gapReason.toLowerCase(java.util.Locale.ROOT).replace("gap_reason_", ""));
      m.put("droppedAtMs", e.queuedFirstMs);
    }
    m.put("sentAtMs", e.sentAtMs);
    m.put("sends", e.sends);
    m.put("lastSentAtMs", e.lastSentAtMs);
    m.put("acknowledgedAtMs", e.ackedAtMs == 0 ? null : e.ackedAtMs);
    m.put("state", e.ackedAtMs == 0 ? "sent" : "acknowledged");
    return m;
  }
}

package io.edgesync.engine.edge;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.wire.StreamDictionary;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The trained dictionaries the edge holds: the newest of each stream, loaded from and saved to the
 * {@link Outbox}, and which of them the cloud confirmed for this session. A batch may name only a
 * dictionary the cloud listed in Welcome or sent in this session, so a dictionary the cloud no
 * longer keeps (or a cloud restored from a backup) never gets batches refused.
 *
 * <p>Every received dictionary is checked before anything is kept ({@link Dictionary#checked}); a
 * bad one raises {@link IllegalArgumentException} and changes nothing.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class EdgeDictionaries {
  /** Most streams with a dictionary on the edge (the cloud accepts this many ids in Hello). */
  static final int MAX_DICTIONARIES = 4096;

  /** Used for batches of at most this many records (0 = never). */
  private final int maxBatchRecords;

  private final Outbox outbox;
  private final Map<String, Dictionary> newest = new LinkedHashMap<>();
  private final Set<Integer> usable = new HashSet<>();
  private boolean loaded;

  EdgeDictionaries(Outbox outbox, int maxBatchRecords) {
    this.outbox = outbox;
    this.maxBatchRecords = maxBatchRecords;
  }

  /** Loads what the outbox saved (once). A saved row that does not load is skipped. */
  void load() {
    if (loaded) {
      return;
    }
    loaded = true;
    for (Outbox.SavedDictionary s : outbox.savedDictionaries()) {
      try {
        Dictionary d = Dictionary.of(s.id(), s.bytes());
        Dictionary held = newest.get(s.stream());
        if (held == null || held.id() < d.id()) {
          newest.put(s.stream(), d);
        }
      } catch (IllegalArgumentException e) {
        // a damaged row: the cloud sends the stream's dictionary again
      }
    }
  }

  /** Ids of the dictionaries held, for Hello. */
  List<Integer> heldIds() {
    load();
    List<Integer> ids = new ArrayList<>();
    for (Dictionary d : newest.values()) {
      ids.add(d.id());
    }
    return ids;
  }

  /** The newest dictionary id per stream (for status). */
  Map<String, Integer> held() {
    load();
    Map<String, Integer> m = new TreeMap<>();
    for (Map.Entry<String, Dictionary> e : newest.entrySet()) {
      m.put(e.getKey(), e.getValue().id());
    }
    return m;
  }

  /** Checks the dictionaries a Welcome carries, keeping nothing. */
  static void validate(Welcome welcome) {
    for (StreamDictionary w : welcome.getDictionariesList()) {
      check(w);
    }
  }

  /**
   * A session starts: the ids the cloud confirmed, and the dictionaries Welcome carries (checked
   * first, all of them, so a bad one keeps none).
   */
  void startSession(Welcome welcome) {
    load();
    usable.clear();
    List<Map.Entry<String, Dictionary>> received = new ArrayList<>();
    for (StreamDictionary w : welcome.getDictionariesList()) {
      received.add(Map.entry(w.getStream(), check(w)));
    }
    usable.addAll(welcome.getDictionaryIdsList());
    for (Map.Entry<String, Dictionary> e : received) {
      keep(e.getKey(), e.getValue());
    }
  }

  /** A StreamDictionary frame arrived during the session. */
  void onReceived(StreamDictionary w) {
    Dictionary d = check(w);
    keep(w.getStream(), d);
  }

  void endSession() {
    usable.clear();
  }

  /**
   * The dictionary a batch of {@code records} records of {@code stream} should be compressed with,
   * or null: the stream's newest, if the cloud confirmed it for this session and the batch is
   * small. A large batch gets none, also when it starts the session's zstd stream (which then runs
   * without one): measured, a dictionary makes batches of 100 larger in both ZSTD and ZSTD_STREAM.
   */
  Dictionary forBatch(String stream, int records) {
    if (records > maxBatchRecords) {
      return null;
    }
    Dictionary d = newest.get(stream);
    return d != null && usable.contains(d.id()) ? d : null;
  }

  private static Dictionary check(StreamDictionary w) {
    if (!ProtocolLimits.isValidStreamName(w.getStream())) {
      throw new IllegalArgumentException(
          "invalid stream name '" + w.getStream() + "' in StreamDictionary");
    }
    return Dictionary.checked(
        w.getId(), w.getData().toByteArray(), Dictionary.MAX_DICTIONARY_BYTES);
  }

  private void keep(String stream, Dictionary d) {
    Dictionary held = newest.get(stream);
    usable.add(d.id());
    if (held != null && held.id() == d.id()) {
      if (!held.equals(d)) {
        // Ids are never reused for other bytes; the cloud's copy wins, as it decodes the batches.
        newest.put(stream, d);
        outbox.saveDictionary(stream, d.id(), d.bytes());
      }
      return;
    }
    if (held != null && held.id() > d.id() && usable.contains(held.id())) {
      return; // an older version than one the cloud confirmed
    }
    if (held == null && newest.size() >= MAX_DICTIONARIES) {
      return;
    }
    outbox.saveDictionary(stream, d.id(), d.bytes());
    newest.put(stream, d);
  }
}

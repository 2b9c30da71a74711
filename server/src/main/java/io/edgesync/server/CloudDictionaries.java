package io.edgesync.server;

import io.edgesync.engine.dict.DictionaryCatalog;
import io.edgesync.engine.dict.DictionaryRules;
import io.edgesync.engine.dict.DictionarySchedule;
import io.edgesync.engine.dict.DictionaryStore;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.codec.Dictionary;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cloud's trained dictionaries: kept in memory (every dictionary the store keeps, by id, and
 * the newest of each stream), trained on a thread of its own ({@code edgesync-dict}) when the
 * {@link DictionarySchedule} says so, stored durably, and announced to a listener that ships them
 * to connected devices. Sessions only read the maps and count bytes: training never runs on a
 * session's thread, and holds the store's lock only to read samples and save the result.
 *
 * <p>Thread safe.
 */
public final class CloudDictionaries implements DictionaryCatalog, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CloudDictionaries.class);

  private final DictionaryRules rules;
  private final DictionaryStore store;
  private final Clock clock;
  private final DictionarySchedule schedule;
  private final Map<Integer, StreamDictionary> byId = new ConcurrentHashMap<>();
  private final Map<String, StreamDictionary> newest = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicLong> batchesUsing = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicLong> shipped = new ConcurrentHashMap<>();
  private final AtomicLong trainings = new AtomicLong();
  private final AtomicLong failedTrainings = new AtomicLong();
  private volatile Consumer<StreamDictionary> listener = d -> {};
  private volatile boolean training = true;

  private final ExecutorService trainer =
      Executors.newSingleThreadExecutor(DaemonThreads.lowPriority("edgesync-dict"));

  public CloudDictionaries(DictionaryRules rules, DictionaryStore store, Clock clock) {
    this.rules = rules;
    this.store = store;
    this.clock = clock;
    this.schedule = new DictionarySchedule(rules);
    for (DictionaryStore.Stored s : store.all()) {
      remember(new StreamDictionary(s.stream(), s.dictionary(), s.trainedAtMs()));
      schedule.trainedBefore(s.stream(), s.trainedAtMs());
    }
  }

  /** Called with every newly trained dictionary (on the trainer's thread). */
  public void onNewDictionary(Consumer<StreamDictionary> l) {
    this.listener = l;
  }

  public DictionaryRules rules() {
    return rules;
  }

  @Override
  public List<StreamDictionary> newest(Collection<String> streams) {
    List<StreamDictionary> out = new ArrayList<>();
    for (String s : streams) {
      StreamDictionary d = newest.get(s);
      if (d != null) {
        out.add(d);
      }
    }
    return out;
  }

  @Override
  public Dictionary byId(int id) {
    StreamDictionary d = byId.get(id);
    return d == null ? null : d.dictionary();
  }

  /**
   * Whether this node trains (on by default). Of several nodes sharing a store only the holder of
   * the {@code dictionaries} lease does; the others learn its dictionaries with {@link #reload}.
   */
  public void training(boolean on) {
    training = on;
  }

  /**
   * Learns the dictionaries another node trained since this one read the store, and hands each to
   * the {@link #onNewDictionary} listener (for this node's sessions).
   */
  public void reload() {
    for (DictionaryStore.Stored s : store.all()) {
      if (!byId.containsKey(s.dictionary().id())) {
        StreamDictionary d = new StreamDictionary(s.stream(), s.dictionary(), s.trainedAtMs());
        remember(d);
        schedule.trainedBefore(s.stream(), s.trainedAtMs());
        listener.accept(d);
      }
    }
  }

  @Override
  public void onCommitted(String stream, long recordBytes, long nowMs) {
    if (training && schedule.onCommitted(stream, recordBytes, nowMs)) {
      try {
        trainer.execute(() -> train(stream));
      } catch (RejectedExecutionException e) {
        schedule.finished(stream, nowMs); // shutting down
      }
    }
  }

  @Override
  public void onUsed(int id) {
    batchesUsing.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
  }

  @Override
  public void onShipped(int id) {
    shipped.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
  }

  /**
   * Every kept dictionary, by stream and id, with the batches decoded with it and the times it was
   * sent to a device since start.
   */
  public List<Map<String, Object>> describe() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (StreamDictionary d : new java.util.TreeMap<>(byId).values()) {
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("stream", d.stream());
      m.put("id", d.dictionary().id());
      m.put("bytes", d.dictionary().size());
      m.put("trainedAtMs", d.trainedAtMs());
      m.put("newest", newest.get(d.stream()) == d);
      AtomicLong used = batchesUsing.get(d.dictionary().id());
      m.put("batchesDecoded", used == null ? 0 : used.get());
      AtomicLong sent = shipped.get(d.dictionary().id());
      m.put("shipped", sent == null ? 0 : sent.get());
      out.add(m);
    }
    return out;
  }

  public long trainings() {
    return trainings.get();
  }

  public long failedTrainings() {
    return failedTrainings.get();
  }

  /**
   * Trains {@code stream} now, whatever the schedule says (tests and operators); on this thread.
   * Returns the new dictionary, or null if zstd could not train from the stream's records.
   */
  public StreamDictionary trainNow(String stream) {
    return doTrain(stream);
  }

  private void train(String stream) {
    try {
      doTrain(stream);
    } catch (RuntimeException e) {
      log.warn("training a dictionary for stream {} failed", stream, e);
    } finally {
      schedule.finished(stream, clock.nowMs());
    }
  }

  private StreamDictionary doTrain(String stream) {
    List<byte[]> samples = store.samples(stream, rules.sampleBytes());
    long bytes = 0;
    for (byte[] s : samples) {
      bytes += s.length;
    }
    int id = store.allocateId(stream);
    Dictionary d;
    long started = System.nanoTime();
    try {
      d = Dictionary.train(id, samples, rules.dictionaryBytes());
    } catch (IllegalArgumentException e) {
      failedTrainings.incrementAndGet();
      log.info(
          "no dictionary for stream {} from {} samples ({} bytes): {}",
          stream,
          samples.size(),
          bytes,
          e.getMessage());
      return null;
    }
    long trainedAt = clock.nowMs();
    List<Integer> deleted = store.save(stream, d, trainedAt, rules.keepPerStream());
    StreamDictionary sd = new StreamDictionary(stream, d, trainedAt);
    remember(sd);
    for (int old : deleted) {
      byId.remove(old);
      batchesUsing.remove(old);
      shipped.remove(old);
    }
    trainings.incrementAndGet();
    log.info(
        "trained dictionary {} for stream {}: {} bytes from {} samples ({} bytes) in {} ms",
        id,
        stream,
        d.size(),
        samples.size(),
        bytes,
        (System.nanoTime() - started) / 1_000_000);
    listener.accept(sd);
    return sd;
  }

  private void remember(StreamDictionary d) {
    byId.put(d.dictionary().id(), d);
    newest.merge(d.stream(), d, (a, b) -> a.dictionary().id() >= b.dictionary().id() ? a : b);
  }

  /**
   * Stops training; waits a little for a training that runs (zstd's trainer is not interruptible).
   */
  @Override
  public void close() {
    trainer.shutdownNow();
    try {
      trainer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

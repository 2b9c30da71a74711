package io.edgesync.server.export;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.cloud.CloudStore.CommittedRecord;
import io.edgesync.engine.cloud.CloudStore.StreamHead;
import io.edgesync.protocol.Clock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports committed stream records to Kafka, each exactly once, in order per device and stream.
 *
 * <p>One export step is one Kafka transaction: the next records of some streams (at most {@code
 * max_batch_records}), then each of those streams' new position to the positions topic ({@link
 * ExportPositions}), then commit. Records and positions become visible together or not at all, so
 * what a {@code read_committed} consumer sees always matches the positions. On start, and after any
 * failure, a new producer's {@code initTransactions()} fences an older producer with the same
 * transactional id and ends its open transaction; then the positions are read back from Kafka. The
 * store keeps no export state: a position in the database could not commit atomically with Kafka.
 *
 * <p>Records go to the topic of their stream ({@link TopicMapping}), keyed by device id (so a
 * device stays on one partition), the payload as sent, with headers {@code device}, {@code stream},
 * {@code sequence}, {@code origin_time_ms} (the device's timestamp) and {@code receive_time_ms}
 * (when the cloud committed the batch), each UTF-8 text. Sequences committed as explicit gaps have
 * no record and are skipped; the position moves past them.
 *
 * <p>Threads: {@link #start} runs one thread, "edgesync-export", which alone uses the producer, the
 * cursor and writes the positions; {@link #status} may be called from any thread (positions are in
 * a concurrent map, counters atomic or volatile). Should the export fail (broker down, fenced,
 * store error) it logs, backs off (0.5 s doubling to 30 s) and starts over with a new producer; it
 * never skips a record.
 */
public final class KafkaExporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaExporter.class);

  static final long MIN_BACKOFF_MS = 500;
  static final long MAX_BACKOFF_MS = 30_000;

  /** How long reading the positions and creating their topic may take before a retry. */
  private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(30);

  /** How long {@link #close} waits for a step in progress to commit. */
  private static final long CLOSE_WAIT_MS = 30_000;

  /** The export's coarse state, as {@code GET /api/v1/export} shows it. */
  public enum State {
    /** Making a producer, fencing older ones, reading positions. */
    STARTING,
    EXPORTING,
    /** The last attempt failed; waiting before the next. */
    BACKING_OFF,
    STOPPED
  }

  /**
   * What the export is doing. {@code lagRecords}: sequence numbers committed in exported streams
   * but not yet exported (an explicit gap's sequences count until the exporter passes them); null
   * while the positions are not known yet.
   */
  public record Status(
      State state,
      Long lagRecords,
      long exportedRecords,
      long transactions,
      long restarts,
      String lastError,
      long lastExportAtMs) {}

  private final KafkaExportSettings settings;
  private final CloudStore store;
  private final Clock clock;
  private final TopicMapping mapping;
  private final Thread thread;
  private final Object sleeper = new Object();

  private volatile boolean closed;
  private volatile State state = State.STARTING;
  private volatile Map<String, Long> positions = new ConcurrentHashMap<>();
  private volatile boolean positionsKnown;
  private volatile String lastError;
  private volatile long lastExportAtMs;
  private final AtomicLong exportedRecords = new AtomicLong();
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong restarts = new AtomicLong();

  private KafkaProducer<byte[], byte[]> producer; // export thread only
  private int cursor; // export thread only: the stream the next step starts with

  private KafkaExporter(KafkaExportSettings settings, CloudStore store, Clock clock) {
    this.settings = settings;
    this.store = store;
    this.clock = clock;
    this.mapping = new TopicMapping(settings.topics(), settings.defaultTopic());
    this.thread = new Thread(this::run, "edgesync-export");
    thread.setDaemon(true);
  }

  /** Starts exporting on a thread of its own. */
  public static KafkaExporter start(KafkaExportSettings settings, CloudStore store, Clock clock) {
    KafkaExporter e = new KafkaExporter(settings, store, clock);
    e.thread.start();
    log.info(
        "exporting stream records to Kafka at {} (transactional id {})",
        settings.bootstrapServers(),
        settings.transactionalId());
    return e;
  }

  /**
   * The highest sequence of {@code device}'s {@code stream} that Kafka holds for good: retention
   * may expire records up to it ({@link io.edgesync.server.ExpiryHold}). A stream that is not
   * exported holds nothing back; while the positions are not known, everything is held.
   */
  public long exportedThrough(String device, String stream) {
    if (mapping.topicOf(stream) == null) {
      return Long.MAX_VALUE;
    }
    return positionsKnown ? positions.getOrDefault(ExportPositions.key(device, stream), 0L) : 0;
  }

  public Status status() {
    Long lag = null;
    if (positionsKnown) {
      lag = lag(store.streamHeads(), positions);
    }
    return new Status(
        state,
        lag,
        exportedRecords.get(),
        transactions.get(),
        restarts.get(),
        lastError,
        lastExportAtMs);
  }

  private long lag(List<StreamHead> heads, Map<String, Long> known) {
    long lag = 0;
    for (StreamHead h : heads) {
      if (mapping.topicOf(h.stream()) != null) {
        long pos = known.getOrDefault(ExportPositions.key(h.deviceId(), h.stream()), 0L);
        lag += Math.max(0, h.lastSequence() - pos);
      }
    }
    return lag;
  }

  private void run() {
    try {
      exportUntilClosed();
    } catch (Error e) {
      lastError = e.toString();
      log.error("Kafka export stopped", e);
      throw e;
    } finally {
      closeProducer(Duration.ofSeconds(5));
      state = State.STOPPED;
    }
  }

  private void exportUntilClosed() {
    long backoffMs = MIN_BACKOFF_MS;
    while (!closed) {
      try {
        openSession();
        while (!closed) {
          int moved = exportStep();
          backoffMs = MIN_BACKOFF_MS; // a step went through: the next failure starts afresh
          if (moved == 0) {
            pause(settings.pollIntervalMs());
          }
        }
      } catch (RuntimeException e) {
        if (closed) {
          break;
        }
        restarts.incrementAndGet();
        lastError = e.toString();
        state = State.BACKING_OFF;
        log.warn("Kafka export failed; starting over in {} ms: {}", backoffMs, e.toString());
        closeProducer(Duration.ZERO);
        pause(backoffMs);
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      }
    }
  }

  /** A new producer that fences older ones, then the positions as Kafka holds them. */
  private void openSession() {
    state = State.STARTING;
    positionsKnown = false;
    producer =
        new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    Properties client = clientProps();
    ExportPositions.ensureTopic(client, settings.positionsTopic(), SETUP_TIMEOUT);
    positions =
        new ConcurrentHashMap<>(
            ExportPositions.read(client, settings.positionsTopic(), SETUP_TIMEOUT));
    positionsKnown = true;
    state = State.EXPORTING;
    log.info("Kafka export resumes from {} stream positions", positions.size());
  }

  /**
   * One transaction: up to {@code max_batch_records} records of streams behind their head, starting
   * at {@link #cursor} so every stream gets its turn. Returns the streams moved (0: nothing to do).
   */
  private int exportStep() {
    List<StreamHead> heads = store.streamHeads();
    int n = heads.size();
    Map<String, Long> moved = new LinkedHashMap<>();
    int budget = settings.maxBatchRecords();
    long sent = 0;
    int visited = 0;
    for (; visited < n && budget > 0; visited++) {
      StreamHead h = heads.get((cursor + visited) % n);
      String topic = mapping.topicOf(h.stream());
      String key = ExportPositions.key(h.deviceId(), h.stream());
      long pos = positions.getOrDefault(key, 0L);
      if (topic == null || h.lastSequence() <= pos) {
        continue;
      }
      List<CommittedRecord> records = store.readCommitted(h.deviceId(), h.stream(), pos, budget);
      if (moved.isEmpty()) {
        producer.beginTransaction();
      }
      byte[] device = utf8(h.deviceId());
      byte[] stream = utf8(h.stream());
      for (CommittedRecord r : records) {
        producer.send(toKafka(topic, device, stream, r));
      }
      long last = records.isEmpty() ? pos : records.get(records.size() - 1).record().sequence();
      // Fewer than asked for: the store holds no record between the last one read and the head,
      // which was committed before the read began, so those sequences are explicit gaps.
      moved.put(key, records.size() < budget ? Math.max(last, h.lastSequence()) : last);
      budget -= records.size();
      sent += records.size();
    }
    cursor = n == 0 ? 0 : (cursor + visited) % n;
    if (moved.isEmpty()) {
      return 0;
    }
    for (Map.Entry<String, Long> m : moved.entrySet()) {
      producer.send(
          new ProducerRecord<>(
              settings.positionsTopic(),
              ExportPositions.encodeKey(m.getKey()),
              ExportPositions.encodeValue(m.getValue())));
    }
    producer.commitTransaction(); // throws if any send failed: then nothing of it is visible
    positions.putAll(moved);
    exportedRecords.addAndGet(sent);
    transactions.incrementAndGet();
    lastExportAtMs = clock.nowMs();
    return moved.size();
  }

  /** The header arrays of one stream are shared by its records: Kafka only reads them. */
  private static ProducerRecord<byte[], byte[]> toKafka(
      String topic, byte[] device, byte[] stream, CommittedRecord r) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("device", device);
    headers.add("stream", stream);
    headers.add("sequence", utf8(Long.toString(r.record().sequence())));
    headers.add("origin_time_ms", utf8(Long.toString(r.record().originMs())));
    headers.add("receive_time_ms", utf8(Long.toString(r.committedAtMs())));
    return new ProducerRecord<>(topic, null, device, r.record().payload(), headers);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The user's properties, our defaults for throughput where the user set none, and what exactly
   * once needs over everything ({@link KafkaExportSettings#RESERVED_PROPERTIES}).
   */
  private Properties producerProps() {
    Properties p = new Properties();
    p.put("linger.ms", "10");
    p.put("batch.size", Integer.toString(256 * 1024));
    p.putAll(settings.properties());
    p.put("bootstrap.servers", settings.bootstrapServers());
    p.put("transactional.id", settings.transactionalId());
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    return p;
  }

  /** For the admin client and the positions consumer: the user's properties (security etc.). */
  private Properties clientProps() {
    Properties p = new Properties();
    for (Map.Entry<String, String> e : settings.properties().entrySet()) {
      if (ADMIN_AND_CONSUMER_PREFIXES.stream().anyMatch(e.getKey()::startsWith)) {
        p.put(e.getKey(), e.getValue());
      }
    }
    p.put("bootstrap.servers", settings.bootstrapServers());
    return p;
  }

  /** Producer properties that the admin client and the consumer also need: how to connect. */
  private static final List<String> ADMIN_AND_CONSUMER_PREFIXES =
      List.of("security.", "ssl.", "sasl.", "client.dns.lookup", "client.id");

  private void pause(long ms) {
    synchronized (sleeper) {
      if (closed) {
        return;
      }
      try {
        sleeper.wait(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closed = true;
      }
    }
  }

  private void closeProducer(Duration timeout) {
    if (producer != null) {
      try {
        producer.close(timeout);
      } catch (RuntimeException e) {
        log.debug("closing the Kafka producer", e);
      }
      producer = null;
    }
  }

  /** Stops after the step in progress (waits for it to commit, up to 30 s). Idempotent. */
  @Override
  public void close() {
    synchronized (sleeper) {
      closed = true;
      sleeper.notifyAll();
    }
    try {
      thread.join(CLOSE_WAIT_MS);
      if (thread.isAlive()) {
        thread.interrupt(); // a producer call blocked on a broker that is gone
        thread.join(CLOSE_WAIT_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package io.edgesync.server.export;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The export positions topic: where the exporter keeps, per device and stream, the last sequence it
 * exported, written in the same Kafka transaction as the records themselves.
 *
 * <p>Format: a compacted topic of one partition; key = UTF-8 {@code <device>/<stream>} (a device id
 * holds no '/'), value = UTF-8 decimal of the last exported sequence. Compaction keeps the newest
 * value per key, so the topic stays about as large as the number of streams. Only committed
 * transactions count: it is read with {@code isolation.level=read_committed}.
 *
 * <p>Stateless; the methods run on the exporter's thread.
 */
final class ExportPositions {
  private ExportPositions() {}

  static String key(String deviceId, String stream) {
    return deviceId + "/" + stream;
  }

  static byte[] encodeKey(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] encodeValue(long sequence) {
    return Long.toString(sequence).getBytes(StandardCharsets.UTF_8);
  }

  /** Creates the compacted positions topic unless it exists. */
  static void ensureTopic(Properties clientProps, String topic, Duration timeout) {
    try (Admin admin = Admin.create(clientProps)) {
      NewTopic t =
          new NewTopic(topic, Optional.of(1), Optional.empty())
              .configs(Map.of("cleanup.policy", "compact"));
      admin
          .createTopics(List.of(t))
          .all()
          .get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new KafkaException("cannot create the positions topic " + topic, e.getCause());
      }
    } catch (java.util.concurrent.TimeoutException e) {
      throw new TimeoutException("creating the positions topic " + topic + " took over " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new org.apache.kafka.common.errors.InterruptException(e);
    }
  }

  /**
   * Every committed position, read from the beginning to the end of the topic as it is now (with
   * read_committed, the end is the last stable offset: a transaction still open would hold it back,
   * which is why the exporter calls {@code initTransactions()} first, ending its predecessor's).
   */
  static Map<String, Long> read(Properties clientProps, String topic, Duration timeout) {
    Properties p = new Properties();
    p.putAll(clientProps);
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    Map<String, Long> positions = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, timeout)) {
        parts.add(new TopicPartition(topic, info.partition()));
      }
      if (parts.isEmpty()) {
        // Never read "no partitions" as "no positions": that would export everything again.
        throw new KafkaException("the positions topic " + topic + " has no partitions (yet)");
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
      long deadlineNanos = System.nanoTime() + timeout.toNanos();
      while (!reachedEnd(consumer, end)) {
        if (System.nanoTime() > deadlineNanos) {
          throw new TimeoutException(
              "reading the positions topic " + topic + " to its end took over " + timeout);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          apply(positions, r);
        }
      }
    }
    return positions;
  }

  private static boolean reachedEnd(
      KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static void apply(Map<String, Long> positions, ConsumerRecord<byte[], byte[]> r) {
    if (r.key() == null) {
      return;
    }
    String key = new String(r.key(), StandardCharsets.UTF_8);
    if (r.value() == null) {
      positions.remove(key); // a tombstone: an operator reset the stream's position
      return;
    }
    positions.put(key, Long.parseLong(new String(r.value(), StandardCharsets.UTF_8)));
  }
}

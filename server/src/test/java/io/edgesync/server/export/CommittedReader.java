package io.edgesync.server.export;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** What a read_committed consumer sees in some topics, read from the beginning; for tests. */
final class CommittedReader implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<ConsumerRecord<byte[], byte[]>> seen = new ArrayList<>();

  CommittedReader(String bootstrap, Collection<String> topics) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> parts = new ArrayList<>();
    for (String t : topics) {
      for (PartitionInfo info : consumer.partitionsFor(t, Duration.ofSeconds(30))) {
        parts.add(new TopicPartition(t, info.partition()));
      }
    }
    consumer.assign(parts);
    consumer.seekToBeginning(parts);
  }

  /** Polls until {@code done} holds for all records seen so far, or the timeout passes. */
  List<ConsumerRecord<byte[], byte[]>> pollUntil(
      Predicate<List<ConsumerRecord<byte[], byte[]>>> done, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.test(seen) && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        seen.add(r);
      }
    }
    return seen;
  }

  static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), UTF_8);
  }

  static void createTopics(String bootstrap, Map<String, Integer> partitions) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      List<NewTopic> topics = new ArrayList<>();
      partitions.forEach((name, n) -> topics.add(new NewTopic(name, n, (short) 1)));
      admin.createTopics(topics).all().get();
    }
  }

  @Override
  public void close() {
    consumer.close();
  }
}

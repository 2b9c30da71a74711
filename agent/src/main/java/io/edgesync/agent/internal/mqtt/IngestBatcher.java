package io.edgesync.agent.internal.mqtt;

import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.QueueFullException;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Coalesces the PUBLISHes read in one pass of the event loop into one append per stream: {@link
 * #add} queues a record and, for the first one of a pass, schedules {@link #flush} as a task, which
 * the loop runs after it has read every ready connection. When the outbox's group commit has made a
 * batch durable, one task back on the loop completes each QoS 1 message's {@link
 * MqttConnection.Ack} and lets each connection write its PUBACKs in order and flush once.
 *
 * <p>Not thread safe: owned by the listener's event loop (the appends' futures complete on the
 * outbox writer, which only posts a task to the loop).
 */
final class IngestBatcher {
  private static final Logger log = LoggerFactory.getLogger(IngestBatcher.class);

  /** One record waiting: its connection, and its acknowledgement (null for QoS 0). */
  private record Entry(MqttConnection connection, MqttConnection.Ack ack) {}

  private static final class Batch {
    final List<byte[]> records = new ArrayList<>();
    final List<Entry> entries = new ArrayList<>();
  }

  private final EventLoop loop;
  private final MqttSink sink;
  private final MqttMetrics metrics;
  private Map<String, Batch> batches = new LinkedHashMap<>();
  private boolean scheduled;

  IngestBatcher(EventLoop loop, MqttSink sink, MqttMetrics metrics) {
    this.loop = loop;
    this.sink = sink;
    this.metrics = metrics;
  }

  /** Queues one record of {@code stream}; {@code ack} is null for QoS 0. */
  void add(String stream, byte[] record, MqttConnection connection, MqttConnection.Ack ack) {
    Batch b = batches.computeIfAbsent(stream, k -> new Batch());
    b.records.add(record);
    b.entries.add(new Entry(connection, ack));
    if (!scheduled) {
      scheduled = true;
      loop.execute(this::flush);
    }
  }

  /** Hands every queued batch to the sink: one append per stream. */
  void flush() {
    scheduled = false;
    Map<String, Batch> ready = batches;
    batches = new LinkedHashMap<>();
    for (Map.Entry<String, Batch> e : ready.entrySet()) {
      Batch b = e.getValue();
      try {
        sink.append(e.getKey(), b.records)
            .whenComplete((r, failure) -> loop.execute(() -> completed(b, failure)));
      } catch (RuntimeException failure) {
        completed(b, failure);
      }
    }
  }

  /** On the loop: a batch is durable (failure == null) or refused. */
  private void completed(Batch b, Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    byte code = cause == null ? ReasonCodes.SUCCESS : codeFor(cause);
    String reason = cause == null ? null : reasonFor(cause);
    if (cause != null && !(cause instanceof QueueFullException)) {
      log.warn("MQTT: appending {} records failed: {}", b.records.size(), cause.toString());
    }
    Map<MqttConnection, Boolean> touched = new IdentityHashMap<>();
    int storedQos0 = 0;
    for (Entry en : b.entries) {
      if (en.ack() == null) {
        if (cause == null) {
          storedQos0++;
        } else {
          metrics.refused(0, reason);
        }
        continue;
      }
      en.ack().complete(code, reason);
      touched.put(en.connection(), Boolean.TRUE);
    }
    metrics.storedQos0(storedQos0);
    for (MqttConnection c : touched.keySet()) {
      c.drainAcks();
    }
  }

  static byte codeFor(Throwable cause) {
    if (cause instanceof QueueFullException) {
      return ReasonCodes.QUOTA_EXCEEDED;
    }
    if (cause instanceof EdgeSyncException e && e.code() == EdgeSyncException.Code.CLOSED) {
      return ReasonCodes.SERVER_SHUTTING_DOWN;
    }
    return ReasonCodes.UNSPECIFIED_ERROR;
  }

  static String reasonFor(Throwable cause) {
    if (cause instanceof QueueFullException) {
      return "queue_full";
    }
    if (cause instanceof EdgeSyncException e && e.code() == EdgeSyncException.Code.CLOSED) {
      return "agent_closing";
    }
    return "storage_error";
  }
}

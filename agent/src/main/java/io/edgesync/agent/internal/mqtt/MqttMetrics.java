package io.edgesync.agent.internal.mqtt;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The MQTT listener's counters, rendered in Prometheus' text format on the agent's {@code GET
 * /metrics} (docs/metrics.md). Every message received ends in exactly one of: stored (QoS 0),
 * acknowledged (QoS 1, after it was durable), or refused with a reason; nothing is dropped
 * uncounted. Thread safe (written on the listener's event loop and the outbox's writer, read by a
 * scrape).
 */
public final class MqttMetrics {
  private final LongAdder[] received = {new LongAdder(), new LongAdder(), new LongAdder()};
  private final LongAdder storedQos0 = new LongAdder();
  private final LongAdder acknowledged = new LongAdder();
  private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> connectionsRefused = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> disconnects = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> sent = new ConcurrentHashMap<>();
  private final AtomicLong connections = new AtomicLong();
  private final LongAdder connectionsAccepted = new LongAdder();

  void received(int qos) {
    received[Math.min(qos, 2)].increment();
  }

  void storedQos0(int n) {
    storedQos0.add(n);
  }

  void acknowledged() {
    acknowledged.increment();
  }

  /** A message refused (QoS 1: negative PUBACK or disconnect) or dropped (QoS 0), by reason. */
  void refused(int qos, String reason) {
    refused
        .computeIfAbsent("qos=\"" + qos + "\",reason=\"" + reason + "\"", k -> new LongAdder())
        .increment();
  }

  void connectionRefused(String reason) {
    connectionsRefused.computeIfAbsent(reason, k -> new LongAdder()).increment();
  }

  void disconnected(String reason) {
    disconnects.computeIfAbsent(reason, k -> new LongAdder()).increment();
  }

  void sent(String kind) {
    sent.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  void connected() {
    connections.incrementAndGet();
    connectionsAccepted.increment();
  }

  void connectionClosed() {
    connections.decrementAndGet();
  }

  public long receivedCount(int qos) {
    return received[qos].sum();
  }

  public long acknowledgedCount() {
    return acknowledged.sum();
  }

  public long storedQos0Count() {
    return storedQos0.sum();
  }

  /** Refused messages of a QoS for a reason. */
  public long refusedCount(int qos, String reason) {
    LongAdder a = refused.get("qos=\"" + qos + "\",reason=\"" + reason + "\"");
    return a == null ? 0 : a.sum();
  }

  /** The counters in Prometheus' text format (version 0.0.4). */
  public String render() {
    StringBuilder out = new StringBuilder(2048);
    header(out, "messages_received_total", "counter", "PUBLISH packets received, by QoS");
    for (int q = 0; q < 3; q++) {
      line(out, "messages_received_total", "qos=\"" + q + "\"", received[q].sum());
    }
    header(out, "messages_stored_total", "counter", "QoS 0 messages stored in the outbox");
    line(out, "messages_stored_total", null, storedQos0.sum());
    header(
        out,
        "messages_acknowledged_total",
        "counter",
        "QoS 1 messages acknowledged (PUBACK) after they were durable in the outbox");
    line(out, "messages_acknowledged_total", null, acknowledged.sum());
    labelled(
        out,
        "messages_refused_total",
        "messages refused (QoS 1) or dropped (QoS 0), by QoS and reason",
        refused,
        null);
    header(out, "connections", "gauge", "MQTT clients connected now");
    line(out, "connections", null, connections.get());
    header(out, "connections_total", "counter", "MQTT connections accepted (CONNACK success)");
    line(out, "connections_total", null, connectionsAccepted.sum());
    labelled(
        out,
        "connections_refused_total",
        "MQTT connections refused at CONNECT, by reason",
        connectionsRefused,
        "reason");
    labelled(
        out,
        "disconnects_total",
        "MQTT connections closed by the listener or the client, by reason",
        disconnects,
        "reason");
    labelled(
        out,
        "messages_sent_total",
        "messages sent to subscribers (documents, commands)",
        sent,
        "kind");
    return out.toString();
  }

  private static void labelled(
      StringBuilder out, String name, String help, Map<String, LongAdder> values, String label) {
    header(out, name, "counter", help);
    for (Map.Entry<String, LongAdder> e : new TreeMap<>(values).entrySet()) {
      String labels = label == null ? e.getKey() : label + "=\"" + e.getKey() + "\"";
      line(out, name, labels, e.getValue().sum());
    }
  }

  private static void header(StringBuilder out, String name, String type, String help) {
    out.append("# HELP edgesync_agent_mqtt_").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE edgesync_agent_mqtt_").append(name).append(' ').append(type).append('\n');
  }

  private static void line(StringBuilder out, String name, String labels, long value) {
    out.append("edgesync_agent_mqtt_").append(name);
    if (labels != null) {
      out.append('{').append(labels).append('}');
    }
    out.append(' ').append(value).append('\n');
  }
}

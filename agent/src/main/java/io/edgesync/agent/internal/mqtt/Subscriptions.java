package io.edgesync.agent.internal.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgesync.agent.Document;
import io.edgesync.agent.Documents;
import io.edgesync.agent.PendingCommand;
import io.edgesync.agent.internal.CommandRunner;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What MQTT clients subscribe to under the prefix: documents ({@code {prefix}docs/{scope}/
 * {collection}/{key}}: the current value as a retained message at subscribe time, then every
 * change; a delete is an empty payload) and commands ({@code {prefix}commands/{name}}: each command
 * without a Java handler whose name a subscriber asked for, delivered to one subscriber; its result
 * comes back as a PUBLISH to {@code {prefix}commands/{id}/result}).
 *
 * <p>The listener is not a broker: messages published on the mapped topics go to the outbox, not to
 * subscribers; filters outside the two trees are refused.
 *
 * <p>Not thread safe: owned by the listener's event loop; document watches and the command inbox
 * call in from other threads only through {@link EventLoop#execute}.
 */
class Subscriptions {
  private static final Logger log = LoggerFactory.getLogger(Subscriptions.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Scopes a wildcard at the scope level covers (a group scope must be named). */
  private static final List<String> WILDCARD_SCOPES = List.of(Documents.DEVICE, "fleet");

  private static final int LIST_PAGE = 500;
  private static final int MAX_COMMANDS_PER_POLL = 100;
  private static final long COMMAND_POLL_MS = 1_000;

  private final String prefix;
  private final String docsPrefix; // {prefix}docs/
  private final String commandsPrefix; // {prefix}commands/
  private final Documents documents; // null: documents not offered
  private final CommandRunner commands; // null: commands not offered
  private final EventLoop loop;
  private final MqttMetrics metrics;
  private final Map<MqttConnection, Map<String, Integer>> filters = new LinkedHashMap<>();
  private final Map<String, AutoCloseable> watches = new HashMap<>(); // "scope/collection"
  private final Map<String, MqttConnection> running = new HashMap<>(); // command id → subscriber
  private boolean commandPollScheduled;

  Subscriptions(
      String prefix,
      Documents documents,
      CommandRunner commands,
      EventLoop loop,
      MqttMetrics metrics) {
    this.prefix = prefix;
    this.docsPrefix = prefix + "docs/";
    this.commandsPrefix = prefix + "commands/";
    this.documents = documents;
    this.commands = commands;
    this.loop = loop;
    this.metrics = metrics;
    if (commands != null) {
      commands.addWakeListener(() -> onLoop(this::pollCommands));
    }
  }

  /** Whether {@code topic} lies in the documents' or commands' tree. */
  boolean handles(String topic) {
    return topic.startsWith(docsPrefix) || topic.startsWith(commandsPrefix);
  }

  /** The SUBACK code for {@code filter}: below 0x80 if it can be subscribed to. */
  int check(String filter, boolean v5) {
    int refused = 0x80;
    if (TopicFilter.problem(filter) != null) {
      return v5 ? ReasonCodes.TOPIC_FILTER_INVALID & 0xFF : refused;
    }
    if (filter.startsWith("$share/")) {
      return v5 ? ReasonCodes.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED & 0xFF : refused;
    }
    if (docTargets(filter).isEmpty() && !coversCommands(filter)) {
      return v5 ? ReasonCodes.TOPIC_FILTER_INVALID & 0xFF : refused;
    }
    return 0;
  }

  /** Adds a subscription and sends what it matches now: documents as retained messages. */
  void subscribe(MqttConnection c, String filter, int qos) {
    filters.computeIfAbsent(c, k -> new LinkedHashMap<>()).put(filter, qos);
    for (String[] target : docTargets(filter)) {
      watch(target[0], target[1]);
      sendCurrent(c, filter, qos, target[0], target[1]);
    }
    c.flushIfPending();
    if (coversCommands(filter)) {
      updateClaims();
      pollCommands();
    }
  }

  void unsubscribe(MqttConnection c, String filter) {
    Map<String, Integer> mine = filters.get(c);
    if (mine != null && mine.remove(filter) != null) {
      if (mine.isEmpty()) {
        filters.remove(c);
      }
      afterRemoval();
    }
  }

  /**
   * A connection ended: its subscriptions go, and a command it took without reporting fails (it may
   * have run; the agent runs a command at most once).
   */
  void connectionClosed(MqttConnection c) {
    filters.remove(c);
    running
        .entrySet()
        .removeIf(
            e -> {
              if (e.getValue() != c) {
                return false;
              }
              commands.complete(
                  e.getKey(),
                  false,
                  null,
                  "the MQTT subscriber disconnected before it reported a result");
              return true;
            });
    afterRemoval();
  }

  private void afterRemoval() {
    Set<String> needed = new HashSet<>();
    for (Map<String, Integer> mine : filters.values()) {
      for (String f : mine.keySet()) {
        for (String[] t : docTargets(f)) {
          needed.add(t[0] + "/" + t[1]);
        }
      }
    }
    watches
        .entrySet()
        .removeIf(
            e -> {
              if (needed.contains(e.getKey())) {
                return false;
              }
              closeQuietly(e.getValue());
              return true;
            });
    updateClaims();
  }

  // ---------------------------------------------------------------- documents

  /** The (scope, collection) pairs whose document topics {@code filter} can match. */
  private List<String[]> docTargets(String filter) {
    if (documents == null) {
      return List.of();
    }
    List<String[]> out = new java.util.ArrayList<>();
    Set<String> scopes = new java.util.LinkedHashSet<>(WILDCARD_SCOPES);
    String[] levels = filter.split("/", -1);
    int scopeLevel = prefix.isEmpty() ? 1 : prefix.split("/", -1).length; // after "docs"
    if (levels.length > scopeLevel && levels[scopeLevel].startsWith("group:")) {
      scopes.add(levels[scopeLevel]);
    }
    for (String scope : scopes) {
      for (String collection : documents.collections()) {
        String probe = prefix + "docs/" + scope + "/" + collection + "/";
        if (couldMatch(filter, probe)) {
          out.add(new String[] {scope, collection});
        }
      }
    }
    return out;
  }

  /**
   * Whether {@code filter} matches some topic made of {@code probePrefix} (levels ending with '/')
   * and one more level (a document key, a command name).
   */
  static boolean couldMatch(String filter, String probePrefix) {
    String[] f = filter.split("/", -1);
    String[] p = probePrefix.substring(0, probePrefix.length() - 1).split("/", -1);
    for (int i = 0; i < p.length; i++) {
      if (i >= f.length) {
        return false;
      }
      if (f[i].equals("#")) {
        return !(i == 0 && p[0].startsWith("$"));
      }
      if (!f[i].equals(p[i]) && !(f[i].equals("+") && !(i == 0 && p[0].startsWith("$")))) {
        return false;
      }
    }
    int rest = f.length - p.length;
    return rest == 1
        || rest >= 1 && f[p.length].equals("#")
        || rest == 2 && f[p.length + 1].equals("#");
  }

  private void watch(String scope, String collection) {
    watches.computeIfAbsent(
        scope + "/" + collection,
        k ->
            documents.watch(
                scope, collection, d -> onLoop(() -> changed(d.scope(), d.collection(), d.key()))));
  }

  /** The current documents of one collection that {@code filter} matches, as retained messages. */
  private void sendCurrent(
      MqttConnection c, String filter, int qos, String scope, String collection) {
    String after = "";
    while (true) {
      List<Document> page = documents.list(scope, collection, after, LIST_PAGE);
      for (Document d : page) {
        String topic = topic(d.scope(), d.collection(), d.key());
        if (TopicFilter.matches(filter, topic)) {
          if (c.deliver(topic, bytes(d.value()), qos, true)) {
            metrics.sent("document");
          }
        }
      }
      if (page.size() < LIST_PAGE) {
        return;
      }
      after = page.get(page.size() - 1).key();
    }
  }

  /**
   * A document changed (here or from the cloud): its value as it is now goes to every matching
   * subscriber (read again, so a late notification never sends an older value after a newer one).
   */
  private void changed(String scope, String collection, String key) {
    String topic = topic(scope, collection, key);
    byte[] payload = null;
    for (Map.Entry<MqttConnection, Map<String, Integer>> e : filters.entrySet()) {
      int qos = -1;
      for (Map.Entry<String, Integer> f : e.getValue().entrySet()) {
        if (TopicFilter.matches(f.getKey(), topic)) {
          qos = Math.max(qos, f.getValue());
        }
      }
      if (qos < 0) {
        continue;
      }
      if (payload == null) {
        Optional<Document> now = documents.get(scope, collection, key);
        payload = now.map(d -> bytes(d.value())).orElse(new byte[0]);
      }
      if (e.getKey().deliver(topic, payload, qos, false)) {
        metrics.sent("document");
      }
      e.getKey().flushIfPending();
    }
  }

  private String topic(String scope, String collection, String key) {
    return prefix + "docs/" + scope + "/" + collection + "/" + key;
  }

  private static byte[] bytes(JsonNode value) {
    try {
      return value == null ? new byte[0] : JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a JSON value", e);
    }
  }

  // ---------------------------------------------------------------- commands

  /** Whether {@code filter} matches command topics ({@code {prefix}commands/{name}}). */
  private boolean coversCommands(String filter) {
    return commands != null && couldMatch(filter, prefix + "commands/");
  }

  /** Tells the command runner which names subscribers claim, so its pollers leave them. */
  private void updateClaims() {
    if (commands == null) {
      return;
    }
    Set<String> names = new HashSet<>();
    boolean all = claimedNames(names);
    commands.setClaims(names, all);
    scheduleCommandPoll(!names.isEmpty() || all);
  }

  /** While commands are claimed, looks once a second too (TTL expiry, a missed wake-up). */
  private void scheduleCommandPoll(boolean claimed) {
    if (claimed && !commandPollScheduled) {
      commandPollScheduled = true;
      loop.schedule(
          () -> {
            commandPollScheduled = false;
            try {
              pollCommands();
            } finally {
              updateClaims(); // schedules the next look even if this one failed
            }
          },
          COMMAND_POLL_MS,
          TimeUnit.MILLISECONDS);
    }
  }

  /** Takes claimed commands and hands each to one matching subscriber. */
  private void pollCommands() {
    if (commands == null || filters.isEmpty()) {
      return;
    }
    for (int i = 0; i < MAX_COMMANDS_PER_POLL; i++) {
      Set<String> names = new HashSet<>();
      boolean all = claimedNames(names);
      if (!all && names.isEmpty()) {
        return;
      }
      PendingCommand c = commands.takeClaimed(all ? null : names);
      if (c == null) {
        return;
      }
      deliverCommand(c);
    }
    loop.execute(this::pollCommands); // more may wait: after other work of the loop
  }

  /** Adds the command names subscribers named to {@code names}; true if one subscribed to all. */
  private boolean claimedNames(Set<String> names) {
    boolean all = false;
    String base = prefix + "commands/";
    for (Map<String, Integer> mine : filters.values()) {
      for (String f : mine.keySet()) {
        if (!coversCommands(f)) {
          continue;
        }
        String rest = f.substring(Math.min(f.length(), base.length()));
        if (f.startsWith(base)
            && !rest.contains("+")
            && !rest.contains("#")
            && !rest.contains("/")) {
          names.add(rest);
        } else {
          all = true;
        }
      }
    }
    return all;
  }

  private void deliverCommand(PendingCommand c) {
    String topic = prefix + "commands/" + c.name();
    for (Map.Entry<MqttConnection, Map<String, Integer>> e : filters.entrySet()) {
      for (Map.Entry<String, Integer> f : e.getValue().entrySet()) {
        if (TopicFilter.matches(f.getKey(), topic)) {
          ObjectNode body = JSON.createObjectNode();
          body.put("id", c.id());
          body.put("name", c.name());
          body.set("payload", c.payload());
          body.put("deadline_ms", c.deadlineMs());
          if (!e.getKey().deliver(topic, bytes(body), f.getValue(), false)) {
            break; // closing, or the command is above its Maximum Packet Size: try the next one
          }
          running.put(c.id(), e.getKey());
          metrics.sent("command");
          e.getKey().flushIfPending();
          return;
        }
      }
    }
    // No subscriber took it (closing, too large for each, or a filter that matches no topic of
    // this name, e.g. commands/+/x): it fails here rather than waiting for a dead connection.
    commands.complete(c.id(), false, null, "no MQTT subscriber for command '" + c.name() + "'");
  }

  /**
   * A client published under the prefix: a command's result ({@code {prefix}commands/{id}/result},
   * JSON {@code {"succeeded":bool,"result":...,"error":...}}) is recorded; documents are read-only
   * over MQTT. Null if taken, else the refusal's metric reason.
   */
  String publishUnderPrefix(MqttConnection c, String topic, byte[] payload) {
    String base = prefix + "commands/";
    if (commands == null || !topic.startsWith(base) || !topic.endsWith("/result")) {
      return "read_only";
    }
    String id = topic.substring(base.length(), topic.length() - "/result".length());
    if (id.isEmpty() || id.contains("/")) {
      return "read_only";
    }
    JsonNode body;
    try {
      body = JSON.readTree(payload);
    } catch (IOException e) {
      return "bad_result";
    }
    if (body == null || !body.isObject() || !body.path("succeeded").isBoolean()) {
      return "bad_result";
    }
    JsonNode result = body.get("result");
    JsonNode error = body.get("error");
    boolean done =
        commands.complete(
            id,
            body.get("succeeded").booleanValue(),
            result == null || result.isNull() ? null : result,
            error == null || error.isNull() ? null : error.asText());
    running.remove(id);
    return done ? null : "unknown_command";
  }

  /**
   * Runs {@code task} on the loop; from another thread (a document write, the command inbox), whose
   * caller must not fail because the listener stopped.
   */
  private void onLoop(Runnable task) {
    try {
      loop.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("MQTT listener stopped; a document or command notification is not delivered");
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      log.debug("closing a document watch: {}", e.toString());
    }
  }
}

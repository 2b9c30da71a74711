package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.AgentStatus;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.engine.cloud.CloudStore;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The kinds of write an agent child performs in crash tests, and how the parent checks that none
 * that was acknowledged is lost. One class per kind holds both ends, so the line format lives in
 * one place; an instance is used either in the child ({@link #write}, {@link #reportHeld}) or in
 * the parent (the rest), never both.
 *
 * <p>Line protocol, child to parent (see {@link ChildJvm}):
 *
 * <pre>
 *   ACK  &lt;kind&gt; &lt;fields...&gt;   a write the agent acknowledged: it is durable on the device
 *   HAVE &lt;kind&gt; &lt;fields...&gt;   drain mode, at start: what the device holds and the cloud must get
 *   READY
 * </pre>
 *
 * <p>To add a kind (document writes, say): implement {@link Kind}, add it to {@link #kinds}; the
 * crash test routes its lines, waits for {@link Kind#cloudCaughtUp} and calls {@link Kind#verify}.
 */
final class AckedWrites {
  static final String DEVICE = "dev-crash";

  private AckedWrites() {}

  /** Every kind, in the order the child runs them; {@code seed} varies the child's writes. */
  static List<Kind> kinds(long seed) {
    return List.of(new StreamAppends("telemetry", seed), new DocumentWrites("config", seed));
  }

  /** Routes one child line to its kind; fails on a line no kind owns. */
  static void route(List<Kind> kinds, String line) {
    String[] f = line.split(" ");
    for (Kind k : kinds) {
      if (f.length >= 2 && f[1].equals(k.name())) {
        String[] fields = java.util.Arrays.copyOfRange(f, 2, f.length);
        switch (f[0]) {
          case "ACK" -> k.onAck(fields);
          case "HAVE" -> k.onHeld(fields);
          default -> throw new AssertionError("unexpected child line: " + line);
        }
        return;
      }
    }
    throw new AssertionError("unexpected child line: " + line);
  }

  /** One kind of acknowledged write. */
  interface Kind {
    /** The second word of its lines. */
    String name();

    // ---- child side

    /** Performs some writes through the agent; reports each acknowledged one. */
    void write(EdgeAgent agent, ChildJvm.Channel out) throws Exception;

    /** Drain mode: reports what the device holds (HAVE lines). */
    void reportHeld(EdgeAgent agent, ChildJvm.Channel out) throws Exception;

    // ---- parent side (called on the child's reader thread, then read by the test thread)

    void onAck(String[] fields);

    void onHeld(String[] fields);

    /** Acknowledged writes so far, across child lifetimes. */
    long acknowledged();

    /** True once the cloud (through REST: path to JSON, or null if down) holds what was held. */
    boolean cloudCaughtUp(Function<String, JsonNode> rest);

    /** Checks the cloud store against everything acknowledged. */
    void verify(CloudStore store);
  }

  /**
   * Appends to one stream, 1..16 records per call, each with {@link Testbed#payload} content. ACK
   * line: {@code ACK stream <stream> <first> <count>}; HAVE: {@code HAVE stream <stream> <last>}.
   * Checks: sequences acknowledged by one child lifetime continue after every earlier one (a
   * restart never reuses a durable sequence); the device still holds every acknowledged record
   * after the kills; the cloud holds exactly 1..held, once each, in order, with exact content, and
   * no gap.
   */
  static final class StreamAppends implements Kind {
    private final String stream;
    private final SplittableRandom random;
    private long next; // child: the sequence the next append must get, 0 = not read yet

    private long maxAcked; // parent, guarded by this
    private long acknowledged;
    private long held = -1;

    StreamAppends(String stream, long seed) {
      this.stream = stream;
      this.random = new SplittableRandom(seed);
    }

    @Override
    public String name() {
      return "stream";
    }

    @Override
    public void write(EdgeAgent agent, ChildJvm.Channel out) throws Exception {
      if (next == 0) {
        next = lastSequence(agent) + 1;
      }
      int n = random.nextInt(1, 17);
      List<byte[]> payloads = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        payloads.add(Testbed.payload(next + i));
      }
      AppendResult r = agent.appendAll(stream, payloads);
      if (r.firstSequence() != next) {
        throw new IllegalStateException(
            "append got sequence " + r.firstSequence() + ", expected " + next);
      }
      out.line("ACK stream " + stream + " " + next + " " + n);
      next += n;
    }

    @Override
    public void reportHeld(EdgeAgent agent, ChildJvm.Channel out) throws Exception {
      out.line("HAVE stream " + stream + " " + lastSequence(agent));
    }

    private long lastSequence(EdgeAgent agent) {
      for (AgentStatus.StreamView s : agent.status().streams()) {
        if (s.name().equals(stream)) {
          return s.lastSequence();
        }
      }
      return 0;
    }

    @Override
    public synchronized void onAck(String[] f) {
      assertThat(f[0]).isEqualTo(stream);
      long first = Long.parseLong(f[1]);
      long count = Long.parseLong(f[2]);
      // Appends durable but not reported before a kill push the next sequence further; at or
      // below an acknowledged one would mean a durable append was lost or reused.
      assertThat(first).as("acknowledged sequences continue across kills").isGreaterThan(maxAcked);
      maxAcked = first + count - 1;
      acknowledged += count;
    }

    @Override
    public synchronized void onHeld(String[] f) {
      assertThat(f[0]).isEqualTo(stream);
      held = Long.parseLong(f[1]);
      assertThat(held)
          .as("the device still holds every acknowledged append")
          .isGreaterThanOrEqualTo(maxAcked);
    }

    @Override
    public synchronized long acknowledged() {
      return acknowledged;
    }

    @Override
    public boolean cloudCaughtUp(Function<String, JsonNode> rest) {
      long target;
      synchronized (this) {
        target = held;
      }
      JsonNode device = rest.apply("/api/v1/devices/" + DEVICE);
      if (target < 0 || device == null) {
        return false;
      }
      for (JsonNode s : device.path("streams")) {
        if (s.path("stream").asText().equals(stream)) {
          return s.path("lastSequence").asLong() >= target;
        }
      }
      return target == 0;
    }

    @Override
    public synchronized void verify(CloudStore store) {
      assertThat(held).as("HAVE reported").isGreaterThanOrEqualTo(maxAcked);
      assertThat(store.checkpoints(DEVICE).get(stream)).as("cloud checkpoint").isEqualTo(held);
      Testbed.assertExactlyOnceInOrder(store, DEVICE, stream, held);
    }

    @Override
    public synchronized String toString() {
      return "stream "
          + stream
          + ": "
          + acknowledged
          + " appends acknowledged, highest "
          + maxAcked
          + ", device held "
          + held;
    }
  }

  /**
   * Puts documents of the device's own scope: {@code keys} keys, each write a counter one higher
   * than the key's last (so the newest write of a key is the one with the highest counter). ACK
   * line: {@code ACK doc <key> <n>}; HAVE: {@code HAVE doc <key> <n>} (the device's local value).
   * Checks: the device still holds, per key, at least the newest acknowledged counter (a returned
   * put is durable); the cloud ends with exactly what the device holds, for every key.
   */
  static final class DocumentWrites implements Kind {
    private static final int KEYS = 8;
    private final String collection;
    private final SplittableRandom random;
    private final long[] next = new long[KEYS]; // child

    private final long[] maxAcked = new long[KEYS]; // parent, guarded by this
    private final long[] held = new long[KEYS];
    private long acknowledged;
    private boolean heldReported;

    DocumentWrites(String collection, long seed) {
      this.collection = collection;
      this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    }

    @Override
    public String name() {
      return "doc";
    }

    @Override
    public void write(EdgeAgent agent, ChildJvm.Channel out) throws Exception {
      int k = random.nextInt(KEYS);
      if (next[k] == 0) {
        next[k] = local(agent, k) + 1;
      }
      long n = next[k]++;
      agent
          .documents()
          .put(collection, "k" + k, "{\"n\":" + n + ",\"pad\":\"" + "x".repeat(64) + "\"}");
      out.line("ACK doc k" + k + " " + n);
    }

    @Override
    public void reportHeld(EdgeAgent agent, ChildJvm.Channel out) throws Exception {
      for (int k = 0; k < KEYS; k++) {
        out.line("HAVE doc k" + k + " " + local(agent, k));
      }
    }

    private long local(EdgeAgent agent, int k) {
      return agent
          .documents()
          .get(collection, "k" + k)
          .map(d -> d.value().path("n").asLong())
          .orElse(0L);
    }

    @Override
    public synchronized void onAck(String[] f) {
      int k = Integer.parseInt(f[0].substring(1));
      long n = Long.parseLong(f[1]);
      assertThat(n)
          .as("acknowledged counters of k%d grow across kills", k)
          .isGreaterThan(maxAcked[k]);
      maxAcked[k] = n;
      acknowledged++;
    }

    @Override
    public synchronized void onHeld(String[] f) {
      int k = Integer.parseInt(f[0].substring(1));
      held[k] = Long.parseLong(f[1]);
      heldReported = true;
      assertThat(held[k])
          .as("the device still holds the newest acknowledged put of k%d", k)
          .isGreaterThanOrEqualTo(maxAcked[k]);
    }

    @Override
    public synchronized long acknowledged() {
      return acknowledged;
    }

    @Override
    public boolean cloudCaughtUp(Function<String, JsonNode> rest) {
      long[] target;
      synchronized (this) {
        if (!heldReported) {
          return false;
        }
        target = held.clone();
      }
      for (int k = 0; k < KEYS; k++) {
        if (target[k] == 0) {
          continue;
        }
        JsonNode d = rest.apply("/api/v1/devices/" + DEVICE + "/docs/" + collection + "/k" + k);
        if (d == null || d.path("value").path("n").asLong() != target[k]) {
          return false;
        }
      }
      return true;
    }

    @Override
    public synchronized void verify(CloudStore store) {
      for (int k = 0; k < KEYS; k++) {
        if (held[k] == 0) {
          continue;
        }
        io.edgesync.engine.docs.DocumentStore.StoredDoc d =
            store.documents().get("device:" + DEVICE, collection, "k" + k);
        assertThat(d).as("cloud holds k%d", k).isNotNull();
        assertThat(io.edgesync.engine.docs.JsonDocs.parse(d.value()).path("n").asLong())
            .as("cloud value of k%d", k)
            .isEqualTo(held[k]);
      }
    }

    @Override
    public synchronized String toString() {
      return "documents " + collection + ": " + acknowledged + " puts acknowledged";
    }
  }
}

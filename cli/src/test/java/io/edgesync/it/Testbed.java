package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.agent.internal.WebSocketTransport;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Record;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;

/** Shared settings and checks for end-to-end tests. */
final class Testbed {
  private Testbed() {}

  /** A port nothing listens on right now (a server started on it later comes up there). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** The sync URL of a server (or a relay or proxy in front of one) on this machine. */
  static URI syncUrl(int port) {
    return URI.create("ws://127.0.0.1:" + port + "/v1/sync");
  }

  /** The default server settings on {@code port} (0: a free one), data in {@code dir/cloud}. */
  static ServerConfig serverConfig(Path dir, int port) {
    return ServerConfig.defaults(dir.resolve("cloud")).withAddress("127.0.0.1", port);
  }

  /**
   * A server on a free port with its data in {@code dir/cloud} and the further YAML sections {@code
   * moreYaml} (e.g. {@code documents:}).
   */
  static SyncServer startServer(Path dir, String moreYaml) {
    return SyncServer.start(
        ServerConfig.fromYaml(
            "server: {port: 0, data_dir: \"" + dir.resolve("cloud") + "\"}\n" + moreYaml));
  }

  /**
   * An agent that syncs documents of the collections {@code lww, cw, ew, mg, mn, cu} (the servers
   * of the document tests declare them) to the server at {@code port}, quickly ({@link #fastSync}),
   * with its store in {@code dir/id}, no local API, and {@code clock} as its wall clock.
   */
  static EdgeAgent documentAgent(String id, int port, Clock clock, Path dir) {
    AgentConfig c =
        AgentConfig.fromYaml(
            "device: {id: \""
                + id
                + "\"}\n"
                + "server: {url: \""
                + syncUrl(port)
                + "\"}\n"
                + "local_api: {port: -1}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve(id)
                + "\"}}\n"
                + "documents: {collections: [lww, cw, ew, mg, mn, cu]}\n");
    return EdgeAgent.open(
        fastSync(c),
        new WebSocketTransport(c.serverUrl(), null, Duration.ofSeconds(5)),
        clock,
        new SplittableRandom(7));
  }

  /**
   * An agent config for tests that check every append arrives: {@code device} syncing quickly
   * ({@link #fastSync}) to {@code port}, a queue that never drops ({@link #neverDrop}), its store
   * in {@code dir/edge}.
   */
  static AgentConfig reliableAgent(String device, int port, Path dir) {
    return neverDrop(fastSync(AgentConfig.simple(device, syncUrl(port), dir.resolve("edge"))));
  }

  /**
   * Closes every resource that is not null, in order, even when one fails; then throws the first
   * failure (with the later ones suppressed).
   */
  static void closeAll(AutoCloseable... resources) throws Exception {
    Exception first = null;
    for (AutoCloseable r : resources) {
      try {
        if (r != null) {
          r.close();
        }
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** Sync quickly: 20 ms debounce and age, fast reconnects. */
  static AgentConfig fastSync(AgentConfig c) {
    return c.withSync(
        c.sync()
            .withTriggers(true, 20, false, c.sync().intervalMs(), 1_000, 256 * 1024, 50)
            .withLiveness(1_000, 5_000, 2_000, 2_000, 50, 500));
  }

  /**
   * A queue that never drops: any overflow would fail the append (policy reject) instead of
   * becoming a gap, so a test that expects every append in the cloud cannot pass by a drop.
   */
  static AgentConfig neverDrop(AgentConfig c) {
    return c.withOutbox(c.outbox().withQueue(100_000_000, 1L << 40, OverflowPolicy.REJECT));
  }

  /**
   * The payload of record {@code sequence} in tests that check content: JSON naming its sequence,
   * with 20..219 bytes of filler derived from it, so that any changed byte is caught.
   */
  static byte[] payload(long sequence) {
    SplittableRandom r = new SplittableRandom(sequence * 0x9E3779B97F4A7C15L);
    StringBuilder fill = new StringBuilder();
    int n = r.nextInt(20, 220);
    for (int i = 0; i < n; i++) {
      fill.append((char) ('a' + r.nextInt(26)));
    }
    return ("{\"seq\":" + sequence + ",\"fill\":\"" + fill + "\"}").getBytes(UTF_8);
  }

  /**
   * Asserts that the cloud holds exactly records 1..{@code lastSequence} of the stream, once each,
   * in order, each with {@link #payload} content, and no gap. Returns the number checked.
   */
  static long assertExactlyOnceInOrder(
      CloudStore store, String device, String stream, long lastSequence) {
    return assertExactlyOnceInOrder(store, device, stream, lastSequence, Testbed::payload);
  }

  /** As above, each record with the content {@code payloadOf} gives for its sequence. */
  static long assertExactlyOnceInOrder(
      CloudStore store,
      String device,
      String stream,
      long lastSequence,
      LongFunction<byte[]> payloadOf) {
    long expected = 1;
    List<Record> page;
    while (!(page = store.read(device, stream, expected - 1, 5_000)).isEmpty()) {
      for (Record r : page) {
        assertThat(r.sequence()).as("sequence of the next stored record").isEqualTo(expected);
        assertThat(new String(r.payload(), UTF_8))
            .as("content of record " + expected)
            .isEqualTo(new String(payloadOf.apply(expected), UTF_8));
        expected++;
      }
    }
    assertThat(expected - 1).as("records stored").isEqualTo(lastSequence);
    assertThat(store.gaps(device, stream)).as("gaps").isEmpty();
    return lastSequence;
  }

  /**
   * Appends {@link #payload} records to one stream from its own thread, 1..16 per call (seeded),
   * until stopped. {@link #lastAcked()} is the last sequence whose append returned, i.e. was
   * durable on the device: every sequence up to it is an acknowledged write.
   */
  static final class Producer implements AutoCloseable {
    private final EdgeAgent agent;
    private final String stream;
    private final SplittableRandom random;
    private final AtomicLong lastAcked = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;

    Producer(EdgeAgent agent, String stream, long seed) {
      this.agent = agent;
      this.stream = stream;
      this.random = new SplittableRandom(seed);
      this.thread = new Thread(this::run, "producer-" + stream);
      thread.setDaemon(true);
      thread.start();
    }

    long lastAcked() {
      return lastAcked.get();
    }

    private void run() {
      try {
        while (!stop.get()) {
          long first = lastAcked.get() + 1;
          int n = random.nextInt(1, 17);
          List<byte[]> batch = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            batch.add(payload(first + i));
          }
          AppendResult r = agent.appendAll(stream, batch);
          if (r.firstSequence() != first) {
            throw new AssertionError(
                "append got sequence " + r.firstSequence() + ", expected " + first);
          }
          lastAcked.set(first + n - 1);
          Thread.sleep(1);
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    }

    /** Stops appending; returns the last acknowledged sequence. Fails if an append failed. */
    long stop() throws InterruptedException {
      stop.set(true);
      thread.join(10_000);
      if (failure.get() != null) {
        throw new AssertionError("producer failed", failure.get());
      }
      return lastAcked.get();
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      thread.join(10_000);
    }
  }
}

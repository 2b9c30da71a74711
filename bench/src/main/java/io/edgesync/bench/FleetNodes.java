package io.edgesync.bench;

import io.edgesync.testing.TestPostgres;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The servers {@code bench fleet} starts itself: one child JVM on SQLite (the default), or {@code
 * --nodes} child JVMs sharing one database of an embedded PostgreSQL ({@code --store=postgres}; the
 * tests' binaries and settings, so {@code fsync} is off: the figures show the server's costs, not a
 * tuned database's disk). Each node has its own port, data directory ({@code DIR/cloud}, {@code
 * DIR/cloud-2}, ...), configuration and log; devices are spread over the nodes round-robin, as a
 * TCP balancer without stickiness would.
 *
 * <p>Used by the runner thread only.
 */
final class FleetNodes implements AutoCloseable {
  private final Path dir;
  private final FleetScenario.Settings s;
  private final String database; // null on SQLite
  private final List<Path> configs = new ArrayList<>();
  private final List<FleetServerProcess> servers = new ArrayList<>();

  private FleetNodes(Path dir, FleetScenario.Settings s, String database) {
    this.dir = dir;
    this.s = s;
    this.database = database;
  }

  /** Starts the nodes and rewrites their configurations with the ports they got (restarts). */
  static FleetNodes start(Path dir, FleetScenario.Settings s, FleetScenario.FleetPki pki)
      throws Exception {
    String database = null;
    if (s.store().equals("postgres")) {
      if (!TestPostgres.available()) {
        throw new IllegalStateException(
            "--store=postgres: no embedded PostgreSQL here: " + TestPostgres.unavailableReason());
      }
      database = TestPostgres.newDatabase();
      Bench.logf("fleet: embedded PostgreSQL, database %s", database);
    }
    FleetNodes nodes = new FleetNodes(dir, s, database);
    try {
      for (int i = 0; i < s.nodes(); i++) {
        Path config = dir.resolve(i == 0 ? "server.yaml" : "server-" + (i + 1) + ".yaml");
        nodes.configs.add(config);
        nodes.write(i, 0, pki);
        nodes.servers.add(nodes.startNode(i));
        nodes.write(i, nodes.servers.get(i).port(), pki); // a restart keeps the port
      }
      return nodes;
    } catch (Exception | Error e) {
      nodes.close();
      throw e;
    }
  }

  private Path dataDir(int i) {
    return dir.resolve(i == 0 ? "cloud" : "cloud-" + (i + 1));
  }

  private FleetServerProcess startNode(int i) throws Exception {
    List<String> jvm = new ArrayList<>();
    jvm.add("-Xmx" + s.serverHeap());
    jvm.addAll(s.serverJvmOptions());
    long t0 = System.nanoTime();
    Path log = dir.resolve(i == 0 ? "server.log" : "server-" + (i + 1) + ".log");
    FleetServerProcess p = FleetServerProcess.start(configs.get(i), jvm, s.serverNofile(), log);
    Bench.logf(
        "fleet: server%s pid %d listening on %d after %.1f s",
        s.nodes() > 1 ? " node " + (i + 1) : "", p.pid(), p.port(), (System.nanoTime() - t0) / 1e9);
    return p;
  }

  private void write(int i, int port, FleetScenario.FleetPki pki) throws Exception {
    StringBuilder y = new StringBuilder();
    y.append("server:\n  host: 127.0.0.1\n  port: ").append(port).append('\n');
    y.append("  data_dir: ").append(dataDir(i).toAbsolutePath()).append('\n');
    y.append("  admission:\n    max_sessions_per_s: ").append(s.maxSessionsPerS()).append('\n');
    y.append("    max_pending_sessions: ").append(s.maxPendingSessions()).append('\n');
    y.append("    max_hello_wait_ms: ").append(s.maxHelloWaitMs()).append('\n');
    if (database != null) {
      y.append("  store: {type: postgres, url: \"")
          .append(TestPostgres.jdbcUrl(database))
          .append("\", user: ")
          .append(TestPostgres.USER)
          .append("}\n");
      y.append("  cluster: {node_id: node-").append(i + 1).append("}\n");
    }
    if (pki != null) {
      y.append("  tls:\n");
      y.append("    cert_file: ").append(pki.serverCert()).append('\n');
      y.append("    key_file: ").append(pki.serverKey()).append('\n');
      y.append("    client_ca_file: ").append(pki.caFile()).append('\n');
    }
    Files.writeString(configs.get(i), y.toString());
  }

  /** The device URLs, one per node. */
  List<URI> urls() {
    String scheme = s.tls() ? "wss" : "ws";
    return servers.stream()
        .map(p -> URI.create(scheme + "://127.0.0.1:" + p.port() + "/v1/sync"))
        .toList();
  }

  /** The first node's REST base URL (any node serves the whole store). */
  String apiUrl() {
    return (s.tls() ? "https" : "http") + "://127.0.0.1:" + servers.get(0).port();
  }

  /** The admin key the first node made at its first start. */
  String apiKey() throws Exception {
    return Files.readString(dataDir(0).resolve("admin.key")).trim();
  }

  /** The server when there is one node (memory, histogram, ceiling); null with several. */
  FleetServerProcess single() {
    return servers.size() == 1 ? servers.get(0) : null;
  }

  /** SIGKILLs every node, then starts each again on its data and port. */
  void restartAll() throws Exception {
    for (FleetServerProcess p : servers) {
      p.kill();
    }
    Bench.logf(
        "fleet: restart: %s killed (SIGKILL); starting %s again",
        servers.size() == 1 ? "server" : "all " + servers.size() + " nodes",
        servers.size() == 1 ? "it" : "them");
    // All at once, as a fleet-wide restart (a node started late would keep its devices out).
    List<java.util.concurrent.CompletableFuture<FleetServerProcess>> starting = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      int node = i;
      starting.add(
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return startNode(node);
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              }));
    }
    for (int i = 0; i < servers.size(); i++) {
      servers.set(i, starting.get(i).join());
    }
  }

  @Override
  public void close() throws Exception {
    try {
      for (FleetServerProcess p : servers) {
        p.close();
      }
    } finally {
      if (database != null) {
        TestPostgres.dropDatabase(database);
      }
    }
  }
}

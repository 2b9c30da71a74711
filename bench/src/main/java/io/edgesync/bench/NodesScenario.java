package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What a second node costs a cloud write on its way to a device: two server nodes in this JVM on
 * one PostgreSQL (the embedded binaries of the tests), {@code devices} agents connected to node B,
 * and {@code writes} device documents written through the REST API alternately through node B (the
 * device's own node: the single-node path) and node A (the other node: the write reaches B over the
 * cluster bus). Each sample is the time from sending the REST write to the agent's document watcher
 * seeing the version (the write's own round trip included, on both paths). Both paths are measured
 * in one sitting, interleaved.
 */
final class NodesScenario {
  record Result(Stats.Latency sameNode, Stats.Latency otherNode, int devices) {}

  private NodesScenario() {}

  static Result run(Path dir, Opts o) throws Exception {
    int devices = o.integer("devices", 20);
    int writes = o.integer("node-writes", 400);
    if (!TestPostgres.available()) {
      throw new IllegalStateException(
          "no embedded PostgreSQL here: " + TestPostgres.unavailableReason());
    }
    String database = TestPostgres.newDatabase();
    try (SyncServer a = node(dir, database, "a");
        SyncServer b = node(dir, database, "b")) {
      List<EdgeAgent> agents = new ArrayList<>();
      Map<String, CountDownLatch> arrivals = new ConcurrentHashMap<>();
      try {
        for (int d = 0; d < devices; d++) {
          agents.add(agent(dir, "dev-" + d, b.port(), arrivals));
        }
        waitConnected(b, devices);
        String key = Files.readString(dir.resolve("cloud").resolve("admin.key")).trim();
        long[] same = new long[writes / 2];
        long[] other = new long[writes / 2];
        HttpClient http = HttpClient.newHttpClient();
        int warmup = Math.max(2, writes / 5) & ~1; // even: the paths keep alternating
        for (int i = -warmup; i < writes; i++) {
          SyncServer via = Math.floorMod(i, 2) == 0 ? b : a;
          String device = "dev-" + Math.floorMod(i, devices);
          String docKey = "k" + (i + warmup);
          CountDownLatch seen = new CountDownLatch(1);
          arrivals.put(device + "/" + docKey, seen);
          long t0 = System.nanoTime();
          put(http, via.port(), key, device, docKey, "{\"i\":" + i + "}");
          if (!seen.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException(docKey + " did not reach " + device + " in 10 s");
          }
          long took = System.nanoTime() - t0;
          if (i < 0) {
            continue; // warm-up (the JIT, the pools): not counted
          }
          if (i % 2 == 0) {
            same[i / 2] = took;
          } else {
            other[i / 2] = took;
          }
        }
        return new Result(
            Stats.Latency.of(same, writes / 2), Stats.Latency.of(other, writes / 2), devices);
      } finally {
        for (EdgeAgent ag : agents) {
          ag.close();
        }
      }
    } finally {
      TestPostgres.dropDatabase(database);
    }
  }

  private static SyncServer node(Path dir, String database, String id) {
    return SyncServer.start(
        ServerConfig.fromYaml(
            "server:\n  host: 127.0.0.1\n  port: 0\n  data_dir: \""
                + dir.resolve("cloud")
                + "\"\n  store: {type: postgres, url: \""
                + TestPostgres.jdbcUrl(database)
                + "\", user: "
                + TestPostgres.USER
                + "}\n  cluster: {node_id: "
                + id
                + "}\ndocuments:\n  collections:\n    lww: {strategy: last_write_wins}\n"));
  }

  private static EdgeAgent agent(
      Path dir, String device, int port, Map<String, CountDownLatch> arrivals) {
    AgentConfig c =
        AgentConfig.fromYaml(
            "device: {id: \""
                + device
                + "\"}\nserver: {url: \"ws://127.0.0.1:"
                + port
                + "/v1/sync\"}\nlocal_api: {port: -1}\nsync: {offline: {local_storage_path: \""
                + dir.resolve(device)
                + "\"}}\ndocuments: {collections: [lww]}\n");
    EdgeAgent agent = EdgeAgent.open(c);
    agent
        .documents()
        .watch(
            "device",
            "lww",
            d -> {
              CountDownLatch l = arrivals.remove(device + "/" + d.key());
              if (l != null) {
                l.countDown();
              }
            });
    return agent;
  }

  private static void waitConnected(SyncServer server, int devices) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (int d = 0; d < devices; d++) {
      while (!server.isConnected("dev-" + d)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("dev-" + d + " did not connect in 30 s");
        }
        Thread.sleep(10);
      }
    }
  }

  private static void put(
      HttpClient http, int port, String key, String device, String docKey, String json)
      throws Exception {
    HttpRequest req =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:"
                        + port
                        + "/api/v1/devices/"
                        + device
                        + "/docs/lww/"
                        + docKey))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json))
            .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("PUT " + docKey + ": " + r.statusCode() + " " + r.body());
    }
  }
}

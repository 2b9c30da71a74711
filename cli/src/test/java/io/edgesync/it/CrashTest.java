package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.server.CloudStores;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.StoreSettings;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Agent and server run as child JVMs and are killed with SIGKILL at seeded random moments while the
 * agent writes: the agent alone, the server alone, or both at once. Each is restarted on the same
 * data (the server on the same port). Afterwards every acknowledged write is in the cloud exactly
 * once and in order (Invariants 1 and 4), checked by each {@link AckedWrites} kind. Identity is on:
 * the agent connects over mutual TLS ({@code wss://}) with a certificate from a CA the test makes,
 * and the test reads the server's REST API over HTTPS. The server's store is SQLite, or, in {@link
 * #onPostgres_sigkillOfAgentServerOrBoth_everyAcknowledgedWriteInCloudOnceInOrder}, a PostgreSQL
 * this JVM runs ({@code TestPostgres}).
 *
 * <p>{@code -Dcrash.kills=N} (default 20) and {@code -Dcrash.seed=S} (default 4242) choose the run;
 * the seed fixes which process is killed when and how long each runs, not the exact instruction it
 * dies at. Tagged {@code crash}: {@code mvn -B verify -pl cli -am -Dgroups=crash
 * -Dcrash.kills=1000}.
 */
@Tag("slow")
@Tag("crash")
class CrashTest {
  private static final Logger log = LoggerFactory.getLogger(CrashTest.class);
  private static final int KILLS = Integer.getInteger("crash.kills", 20);
  private static final long SEED = Long.getLong("crash.seed", 4242);
  private static final int KILLS_ON_POSTGRES = Integer.getInteger("crash.pg.kills", 5);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private enum Target {
    AGENT,
    SERVER,
    BOTH
  }

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  private final ObjectMapper json = new ObjectMapper();
  private HttpClient http;
  private Path pki;
  private List<AckedWrites.Kind> kinds;
  private int port;
  private int lifetimes;
  private SplittableRandom random;
  private String postgresUrl; // null: the server's store is SQLite in its data directory

  @Test
  void sigkillOfAgentServerOrBoth_seededMix_everyAcknowledgedWriteInCloudOnceInOrder()
      throws Exception {
    run(KILLS);
  }

  /**
   * The same with the server's store on PostgreSQL (the embedded server, started by this JVM, is
   * never killed: the server process is). Fewer kills by default ({@code -Dcrash.pg.kills=N}).
   */
  @Test
  void onPostgres_sigkillOfAgentServerOrBoth_everyAcknowledgedWriteInCloudOnceInOrder()
      throws Exception {
    Assumptions.assumeTrue(
        TestPostgres.available(), () -> "no PostgreSQL here: " + TestPostgres.unavailableReason());
    postgresUrl = TestPostgres.jdbcUrl(TestPostgres.newDatabase());
    run(KILLS_ON_POSTGRES);
  }

  private void run(int kills) throws Exception {
    random = new SplittableRandom(SEED);
    kinds = AckedWrites.kinds(0);
    pki = TestConfigs.devicePki(dir, AckedWrites.DEVICE);
    http =
        HttpClient.newBuilder()
            .sslContext(TestConfigs.trustingPki(dir))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    port = Testbed.freePort();
    log.info(
        "crash run: {} kills, seed {}, data in {}, store {}",
        kills,
        SEED,
        dir,
        postgresUrl == null ? "SQLite" : postgresUrl);
    Map<Target, Integer> killed = new EnumMap<>(Target.class);
    ChildJvm server = startServer();
    ChildJvm agent = startAgent("append");
    long t0 = System.nanoTime();
    for (int k = 0; k < kills; k++) {
      Target target = pick();
      long runMs = random.nextLong(100, 800);
      // Under load: the agent has acknowledged new writes since it (re)started, and ran a while.
      long before = acknowledged();
      Thread.sleep(runMs);
      ChildJvm writer = agent;
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                writer.checkHandler();
                return acknowledged() > before;
              });
      if (target != Target.AGENT) {
        server.sigkill();
      }
      if (target != Target.SERVER) {
        agent.sigkill();
      }
      killed.merge(target, 1, Integer::sum);
      if (target != Target.AGENT) {
        server = startServer();
      }
      if (target != Target.SERVER) {
        agent = startAgent("append");
      }
      if ((k + 1) % 50 == 0) {
        log.info("{} kills, {}", k + 1, kinds);
      }
    }
    double killSeconds = (System.nanoTime() - t0) / 1e9;

    // Drain: the last writer goes (one more SIGKILL), an agent that only syncs takes over.
    agent.sigkill();
    agent = startAgent("drain");
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> kinds.stream().allMatch(k -> k.cloudCaughtUp(this::rest)));
    agent.sigkill();
    server.sigkill();

    // The cloud store as the killed server left it, opened here.
    try (SqliteCloudStore store = openStore()) {
      for (AckedWrites.Kind k : kinds) {
        k.verify(store);
      }
    }
    log.info(
        "crash run passed: {} kills {} in {} s ({} child JVMs), {}",
        kills,
        killed,
        Math.round(killSeconds),
        lifetimes,
        kinds);
    assertThat(killed.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(kills);
  }

  /** The cloud store as the killed server left it. */
  private SqliteCloudStore openStore() throws Exception {
    Path data = dir.resolve("cloud");
    return postgresUrl == null
        ? new SqliteCloudStore(data.resolve(SyncServer.STORE_FILE))
        : CloudStores.open(
            StoreSettings.postgres(postgresUrl, TestPostgres.USER, null),
            data,
            1L << 20,
            () -> java.util.UUID.randomUUID().toString());
  }

  private Target pick() {
    int r = random.nextInt(100);
    return r < 40 ? Target.AGENT : r < 75 ? Target.SERVER : Target.BOTH;
  }

  private long acknowledged() {
    return kinds.stream().mapToLong(AckedWrites.Kind::acknowledged).sum();
  }

  private ChildJvm startServer() throws Exception {
    ChildJvm c =
        ChildJvm.start(
            "server-" + lifetimes,
            dir.resolve("server-" + lifetimes++ + ".log"),
            line -> {
              throw new AssertionError("unexpected server line: " + line);
            },
            ServerChild.class,
            Integer.toString(port),
            dir.resolve("cloud").toString(),
            pki.toString(),
            postgresUrl == null ? "" : postgresUrl);
    c.awaitReady(START_TIMEOUT);
    return c;
  }

  private ChildJvm startAgent(String mode) throws Exception {
    ChildJvm c =
        ChildJvm.start(
            "agent-" + lifetimes,
            dir.resolve("agent-" + lifetimes++ + "-" + mode + ".log"),
            line -> AckedWrites.route(kinds, line),
            AgentChild.class,
            AckedWrites.DEVICE,
            "wss://127.0.0.1:" + port + "/v1/sync",
            dir.resolve("edge").toString(),
            mode,
            Long.toString(random.nextLong()),
            pki.toString());
    c.awaitReady(START_TIMEOUT);
    return c;
  }

  /** GET on the server's REST API; null while it is down or answers an error. */
  private JsonNode rest(String path) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                  .header(
                      "Authorization",
                      "Bearer " + Rest.adminKey(dir.resolve("cloud").resolve("admin.key")))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? json.readTree(r.body()) : null;
    } catch (java.io.IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}

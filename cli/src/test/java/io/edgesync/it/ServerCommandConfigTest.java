package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.cli.Main;
import io.edgesync.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real {@code edgesync server --config F} command line, in its own JVM, with each override: the
 * running server serves F's document collections and limits, and the override took effect. F keeps
 * the store in PostgreSQL (a database of the {@code TestPostgres} this JVM runs; skipped where it
 * cannot start): the command's own start path opens it, migrates it and serves from it. Regression:
 * with {@code --data-dir} a collection declared in F answered "unknown collection 'settings';
 * declared: [config, firmware]".
 */
@Tag("slow")
class ServerCommandConfigTest {
  private static final Pattern ANNOUNCED = Pattern.compile("^edgesync server on port (\\d+);");

  @TempDir Path dir;

  @ParameterizedTest(name = "server --config F {0}")
  @ValueSource(strings = {"--data-dir", "--port", "--port --data-dir"})
  void serverWithConfigAndOverride_servesTheFilesCollectionsAndLimits_andTheOverride(String flags)
      throws Exception {
    int filePort = Testbed.freePort();
    int flagPort = Testbed.freePort();
    Path fileData = dir.resolve("data-from-file");
    Path flagData = dir.resolve("data-from-flag");
    Assumptions.assumeTrue(
        TestPostgres.available(), () -> "no PostgreSQL here: " + TestPostgres.unavailableReason());
    String storeUrl = TestPostgres.jdbcUrl(TestPostgres.newDatabase());
    Path config = TestConfigs.serverEverySection(dir, filePort, fileData, storeUrl);
    List<String> args = new ArrayList<>(List.of("server", "--config", config.toString()));
    boolean givePort = flags.contains("--port");
    boolean giveDataDir = flags.contains("--data-dir");
    if (givePort) {
      args.addAll(List.of("--port", String.valueOf(flagPort)));
    }
    if (giveDataDir) {
      args.addAll(List.of("--data-dir", flagData.toString()));
    }

    Queue<String> output = new ConcurrentLinkedQueue<>();
    CompletableFuture<Integer> announcedPort = new CompletableFuture<>();
    ChildJvm server =
        ChildJvm.start(
            "server",
            dir.resolve("server-stderr.log"),
            line -> {
              output.add(line);
              Matcher m = ANNOUNCED.matcher(line);
              if (m.find()) {
                announcedPort.complete(Integer.parseInt(m.group(1)));
              }
            },
            Main.class,
            args.toArray(String[]::new));
    try {
      int port = awaitAnnounced(server, announcedPort, output);
      assertThat(port).as("port").isEqualTo(givePort ? flagPort : filePort);
      assertServesTheFilesDocumentsSection(
          new Rest(
              port,
              TestConfigs.trustingPki(dir),
              Rest.adminKey((giveDataDir ? flagData : fileData).resolve("admin.key"))));
      Path usedData = giveDataDir ? flagData : fileData;
      assertThat(usedData.resolve("admin.key")).exists();
      assertThat(usedData.resolve("edgesync-cloud.db")).doesNotExist(); // the store is PostgreSQL
      assertThat(giveDataDir ? fileData : flagData).doesNotExist();
    } finally {
      if (server.isAlive()) {
        server.sigkill();
      }
    }
  }

  private static void assertServesTheFilesDocumentsSection(Rest rest) {
    // documents.collections and sync.directions.cloud_to_edge.data_types
    Rest.Reply unknown = rest.get("/api/v1/fleet/docs/nope");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body().get("error").asText())
        .contains("declared: [config, desired, firmware, rollout, settings, tuning]");
    assertThat(rest.put("/api/v1/fleet/docs/settings/site", "{\"a\":1}").status()).isEqualTo(200);
    assertThat(rest.put("/api/v1/fleet/docs/rollout/wave", "{\"n\":2}").status()).isEqualTo(200);
    assertThat(rest.get("/api/v1/fleet/docs/settings/site").body().get("value").get("a").asInt())
        .isEqualTo(1);
    // documents.max_document_bytes: 1024 (the default is 262144)
    Rest.Reply big =
        rest.put("/api/v1/fleet/docs/settings/big", "{\"x\":\"" + "a".repeat(2000) + "\"}");
    assertThat(big.status()).isEqualTo(413);
    assertThat(big.body().get("error").asText()).contains("the limit is 1024");
  }

  /** The port the server announced on stdout; fails with the child's output if it exited. */
  private int awaitAnnounced(
      ChildJvm server, CompletableFuture<Integer> announced, Queue<String> output)
      throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!announced.isDone() && server.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    if (!announced.isDone()) {
      throw new AssertionError(
          "the server did not announce its port (alive: "
              + server.isAlive()
              + ")\nstdout:\n"
              + String.join("\n", output)
              + "\nstderr:\n"
              + Files.readString(dir.resolve("server-stderr.log")));
    }
    return announced.get();
  }
}

package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code edgesync server} command line in its own JVM: {@code --insecure} starts a plain
 * server on every interface with a warning; loopback without TLS starts without the flag. The
 * refusal without the flag is {@code io.edgesync.cli.ServerExposureTest}.
 */
class SecureByDefaultTest {
  private static final Pattern ANNOUNCED = Pattern.compile("^edgesync server on port (\\d+);");

  @TempDir Path dir;

  @Tag("slow")
  @Test
  void insecureFlag_startsThePlainServer_andWarnsWhatItExposes() throws Exception {
    Queue<String> output = new ConcurrentLinkedQueue<>();
    int port = runServer(output, "--insecure", "--port", "0");
    assertThat(output)
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("WARN")
                    .contains("--insecure: serving plain ws:// and http:// on 0.0.0.0:" + port)
                    .contains("device ids no one authenticates"));
    assertThat(Rest.admin(port, dir.resolve("data")).get("/api/v1/devices").status())
        .isEqualTo(200);
  }

  @Tag("slow")
  @Test
  void plainServerOnLoopback_startsWithoutTheFlag_andWithoutAWarning() throws Exception {
    Queue<String> output = new ConcurrentLinkedQueue<>();
    int port = runServer(output, "--host", "127.0.0.1", "--port", "0");
    assertThat(Rest.admin(port, dir.resolve("data")).get("/api/v1/devices").status())
        .isEqualTo(200);
    assertThat(output).noneMatch(line -> line.contains("--insecure"));
  }

  /** Runs {@code edgesync server} in a child JVM until it announced its port; returns the port. */
  private int runServer(Queue<String> output, String... flags) throws Exception {
    CompletableFuture<Integer> announced = new CompletableFuture<>();
    String[] args = new String[flags.length + 3];
    args[0] = "server";
    System.arraycopy(flags, 0, args, 1, flags.length);
    args[flags.length + 1] = "--data-dir";
    args[flags.length + 2] = dir.resolve("data").toString();
    ChildJvm server =
        ChildJvm.start(
            "server",
            dir.resolve("server-stderr.log"),
            line -> {
              output.add(line);
              Matcher m = ANNOUNCED.matcher(line);
              if (m.find()) {
                announced.complete(Integer.parseInt(m.group(1)));
              }
            },
            Main.class,
            args);
    children.add(server);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!announced.isDone() && server.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(announced)
        .as(
            "the server announced its port; stdout: %s; stderr: %s",
            output,
            Files.exists(dir.resolve("server-stderr.log"))
                ? Files.readString(dir.resolve("server-stderr.log"))
                : "")
        .isDone();
    Thread.sleep(200); // the warning is logged right after the announcement
    return announced.get();
  }

  private final java.util.List<ChildJvm> children = new java.util.ArrayList<>();

  @org.junit.jupiter.api.AfterEach
  void killChildren() throws Exception {
    for (ChildJvm c : children) {
      if (c.isAlive()) {
        c.sigkill();
      }
    }
  }
}

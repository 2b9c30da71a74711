package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A child JVM for crash tests, killed with SIGKILL. The child reports to the parent through lines
 * on its stdout ({@link Channel}); each line is one {@code write(2)} of a whole line into the pipe,
 * so a line the child wrote before the kill is in the kernel's pipe buffer and reaches the parent
 * whole; a line cut short by the kill has no newline and is ignored. The child's logs go to stderr,
 * which is redirected to a file.
 *
 * <p>The kill is {@code ProcessHandle.destroyForcibly()}: SIGKILL on Linux, which the exit code 137
 * (128 + 9) confirms after every kill. {@code Process.destroyForcibly()} sends the same signal but
 * also closes the parent's end of the child's stdout, losing lines still in the pipe.
 *
 * <p>Thread safe; one reader thread per child delivers lines to the handler in order.
 */
final class ChildJvm {
  /** Small heap, quick start: the child lives for well under a minute. */
  private static final List<String> JVM_FLAGS =
      List.of(
          "-Xmx128m",
          "-Xss512k",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-XX:-UsePerfData",
          "-Xshare:auto");

  private final String name;
  private final Process process;
  private final Thread reader;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  /** The first failure of the line handler (a check that failed on the reader thread). */
  private volatile Throwable handlerFailure;

  private ChildJvm(String name, Process process, Consumer<String> lines) {
    this.name = name;
    this.process = process;
    this.reader = new Thread(() -> readLines(process.getInputStream(), lines), name + "-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code main} with the test classpath; lines other than READY go to {@code lines}. */
  static ChildJvm start(
      String name, Path stderrLog, Consumer<String> lines, Class<?> main, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_FLAGS);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(stderrLog.toFile()).start();
    return new ChildJvm(name, p, lines);
  }

  /** Waits for the child's READY line. */
  void awaitReady(Duration timeout) throws Exception {
    try {
      ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(
          name + " not ready after " + timeout + " (alive: " + process.isAlive() + ")", e);
    }
    checkHandler();
  }

  /** Rethrows, on the test thread, a check that failed on the reader thread. */
  void checkHandler() {
    if (handlerFailure != null) {
      throw new AssertionError(name + ": a reported line failed a check", handlerFailure);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * SIGKILL; returns once the child is gone and every complete line it wrote was handled. Asserts
   * that it died of SIGKILL.
   */
  void sigkill() throws InterruptedException {
    process.toHandle().destroyForcibly();
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).as(name + " exits").isTrue();
    assertThat(process.exitValue()).as(name + " died of SIGKILL (128 + 9)").isEqualTo(137);
    reader.join(20_000);
    assertThat(reader.isAlive()).as(name + "'s output fully read").isFalse();
    checkHandler();
  }

  private void readLines(InputStream in, Consumer<String> lines) {
    byte[] buf = new byte[8192];
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    try (in) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        for (int i = 0; i < n; i++) {
          if (buf[i] != '\n') {
            line.write(buf[i]);
            continue;
          }
          String s = line.toString(StandardCharsets.UTF_8);
          line.reset();
          if (s.equals("READY")) {
            ready.complete(null);
          } else {
            lines.accept(s);
          }
        }
      }
    } catch (IOException e) {
      // the pipe ended: the child is gone
    } catch (RuntimeException | Error e) {
      handlerFailure = e;
      ready.completeExceptionally(e);
    }
    // A line without its newline was cut by the kill: it was never fully reported.
  }

  /**
   * The child's side: whole lines written straight to file descriptor 1, one system call each.
   * Redirects {@code System.out} to stderr so that logging cannot interleave with the protocol.
   */
  static final class Channel {
    private final OutputStream out = new FileOutputStream(FileDescriptor.out);

    Channel() {
      System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
    }

    synchronized void line(String s) throws IOException {
      out.write((s + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }
}

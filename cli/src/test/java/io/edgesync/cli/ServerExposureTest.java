package io.edgesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Secure by default, through the real {@code edgesync server} command line: without {@code
 * server.tls} it refuses an address beyond loopback (the default, 0.0.0.0), naming what would be
 * exposed and the ways out, and creates nothing. The starts ({@code --insecure}, loopback) are
 * {@code io.edgesync.it.SecureByDefaultTest}.
 */
class ServerExposureTest {
  @TempDir Path dir;

  @Test
  @Timeout(30) // without the refusal, the command would serve until killed
  void plainServerOnAllInterfaces_refusesToStart_namingWhatIsExposedAndTheWaysOut()
      throws Exception {
    int port = freePort();
    Path data = dir.resolve("data");
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));

    int code = cli.execute("server", "--port", String.valueOf(port), "--data-dir", data.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .contains("refusing to start: server.host is 0.0.0.0 (not loopback)")
        .contains("server.tls is not configured")
        .contains("device ids no one authenticates")
        .contains("readable by anyone")
        .contains("configure server.tls")
        .contains("--host 127.0.0.1")
        .contains("--insecure");
    assertThat(data).doesNotExist(); // nothing was created, no admin key written
    assertNothingListensOn(port);
  }

  @Test
  @Timeout(30) // without the refusal, the command would serve until killed
  void plainServerOnAnotherConfiguredAddress_isRefusedToo() throws Exception {
    Path data = dir.resolve("data");
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));

    int code = cli.execute("server", "--host", "::", "--port", "0", "--data-dir", data.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("server.host is :: (not loopback)");
    assertThat(data).doesNotExist();
  }

  private static void assertNothingListensOn(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      throw new AssertionError("something listens on port " + port);
    } catch (ConnectException expected) {
      // refused: nothing listens
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

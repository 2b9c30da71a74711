package io.edgesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.security.DeviceIdentity;
import io.edgesync.security.Pem;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CaCommandTest {
  @TempDir Path dir;

  /** What one command printed and returned. */
  record Run(int code, String out, String err) {}

  private Run ca(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 3];
    all[0] = "ca";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--ca-dir";
    all[args.length + 2] = dir.resolve("ca").toString();
    return new Run(cli.execute(all), out.toString(), err.toString());
  }

  @Test
  void initIssueRevokeList_printWhereFilesWent_andKeysAre0600() throws Exception {
    Run init = ca("init");
    assertThat(init.code()).isZero();
    assertThat(init.out()).contains(dir.resolve("ca").resolve("ca.pem").toString());

    Path out = dir.resolve("keys");
    Run device = ca("issue", "--device", "gw-0042", "--out", out.toString());
    assertThat(device.code()).as(device.err()).isZero();
    assertThat(device.out())
        .contains(out.resolve("gw-0042.pem").toString())
        .contains(out.resolve("gw-0042.key").toString());
    X509Certificate cert = Pem.readCertificate(out.resolve("gw-0042.pem"));
    assertThat(DeviceIdentity.deviceId(cert)).isEqualTo("gw-0042");
    Pem.readPrivateKey(out.resolve("gw-0042.key"));
    assertOwnerOnly(out.resolve("gw-0042.key"));
    assertOwnerOnly(dir.resolve("ca").resolve("ca.key"));

    Run server = ca("issue", "--server", "localhost", "127.0.0.1", "--out", out.toString());
    assertThat(server.code()).as(server.err()).isZero();
    assertThat(out.resolve("localhost.pem")).exists();
    assertOwnerOnly(out.resolve("localhost.key"));

    String serial = serialIn(device.out());
    assertThat(serial).isEqualTo(cert.getSerialNumber().toString(16));
    assertThat(ca("revoke", serial).code()).isZero();
    String list = ca("list").out();
    assertThat(list).containsPattern(serial + "\\s+device\\s+.*revoked\\s+CN=gw-0042");
    assertThat(list).containsPattern("server\\s+.*valid\\s+CN=localhost");
  }

  @Test
  void badInput_isAClearErrorAndChangesNothing() throws Exception {
    Run noCa = ca("list");
    assertThat(noCa.code()).isEqualTo(2);
    assertThat(noCa.err()).contains("holds no CA").contains("edgesync ca init");

    assertThat(ca("init").code()).isZero();
    byte[] crl = Files.readAllBytes(dir.resolve("ca").resolve("crl.pem"));
    Run again = ca("init");
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("already holds a CA");

    Run badId = ca("issue", "--device", "gw 1", "--out", dir.toString());
    assertThat(badId.err()).contains("device id 'gw 1' must match");
    assertThat(dir.resolve("gw 1.key")).doesNotExist();

    Run unknown = ca("revoke", "abc");
    assertThat(unknown.err()).contains("no certificate with serial abc");
    Run notHex = ca("revoke", "xyz");
    assertThat(notHex.err()).contains("serial 'xyz' is not a hex number");
    assertThat(Files.readAllBytes(dir.resolve("ca").resolve("crl.pem"))).isEqualTo(crl);

    Run both = ca("issue", "--device", "a", "--server", "b");
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("mutually exclusive");
  }

  private static String serialIn(String printed) {
    Matcher m = Pattern.compile("issued serial ([0-9a-f]+)").matcher(printed);
    assertThat(m.find()).as(printed).isTrue();
    return m.group(1);
  }

  private static void assertOwnerOnly(Path key) throws Exception {
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
          .isEqualTo("rw-------");
    }
  }
}

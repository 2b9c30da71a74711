package io.edgesync.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgesync.agent.StorageKeyException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent with {@code storage.encryption.key_file} on real SQLite files: record payloads and
 * document values are not on disk in plaintext, and key problems stop {@link EdgeAgent#open} with a
 * named {@link StorageKeyException}, leaving no agent half open and the stored data untouched.
 */
class AtRestEncryptionTest {
  private static final String SECRET = "SECRET-VALUE-0815";

  @TempDir Path dir;

  private final List<EdgeAgent> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(EdgeAgent::close);
  }

  @Test
  void recordsAndDocuments_areNotOnDiskInPlaintext_andReadBackAfterReopen() throws Exception {
    Path keys = keyFile("keys", "1:" + newKey());
    EdgeAgent agent = open(keys);
    agent.append("sensor_data", SECRET.getBytes(UTF_8));
    agent.documents().put("settings", "k", "{\"v\":\"" + SECRET + "\"}");
    agent.close();

    for (String name : new String[] {"edgesync-agent.db", "edgesync-docs.db"}) {
      for (String suffix : new String[] {"", "-wal"}) {
        Path f = dir.resolve("agent").resolve(name + suffix);
        if (Files.exists(f)) {
          assertThat(new String(Files.readAllBytes(f), UTF_8))
              .as(f.toString())
              .doesNotContain(SECRET);
        }
      }
    }
    EdgeAgent again = open(keys);
    assertThat(again.documents().get("settings", "k").orElseThrow().value().get("v").asText())
        .isEqualTo(SECRET);
    assertThat(again.status().streams()).isNotEmpty();
  }

  @Test
  void wrongKey_stopsOpenWithWrongKey_andLeavesNoAgentHalfOpen() throws Exception {
    open(keyFile("right", "1:" + newKey())).close();
    opened.clear();
    int threadsBefore = writerThreads();

    StorageKeyException e = refused(() -> open(keyFile("wrong", "1:" + newKey())));
    assertThat(e.reason()).isEqualTo(Reason.WRONG_KEY);
    assertThat(e.code()).isEqualTo(EdgeSyncException.Code.ENCRYPTION_KEY);
    assertThat(writerThreads()).as("outbox writer threads left running").isEqualTo(threadsBefore);
  }

  @Test
  void noKeyForAnEncryptedAgent_stopsOpenWithKeyMissing() throws Exception {
    open(keyFile("right", "1:" + newKey())).close();
    opened.clear();
    StorageKeyException e = refused(() -> open(null));
    assertThat(e.reason()).isEqualTo(Reason.KEY_MISSING);
    assertThat(e).hasMessageContaining("storage.encryption.key_file");
  }

  @Test
  void swappedDocumentValues_failTheirReadAsTampered() throws Exception {
    Path keys = keyFile("keys", "1:" + newKey());
    EdgeAgent agent = open(keys);
    agent.documents().put("settings", "a", "{\"v\":1}");
    agent.documents().put("settings", "b", "{\"v\":2}");
    agent.close();
    try (Connection c =
            DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("agent/edgesync-docs.db"));
        Statement st = c.createStatement()) {
      st.executeUpdate(
          "UPDATE docs SET value=(SELECT value FROM docs d2 WHERE d2.key <> docs.key)"
              + " WHERE collection='settings'");
    }
    EdgeAgent again = open(keys);
    StorageKeyException e = refused(() -> again.documents().get("settings", "a"));
    assertThat(e.reason()).isEqualTo(Reason.TAMPERED);
  }

  @Test
  void keyFileReadableByOthers_stopsOpenWithKeyFilePermissions() throws Exception {
    Path keys = keyFile("keys", "1:" + newKey());
    Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-r-----"));
    assertThat(refused(() -> open(keys)).reason()).isEqualTo(Reason.KEY_FILE_PERMISSIONS);
    assertThat(dir.resolve("agent")).doesNotExist();
  }

  // ---------------------------------------------------------------- helpers

  private EdgeAgent open(Path keyFile) {
    AgentConfig config =
        AgentConfig.fromYaml(
            "device: {id: dev-1}\n"
                + "server: {url: \"ws://127.0.0.1:9/v1/sync\"}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve("agent").toString().replace("\\", "/")
                + "\"}, directions: {edge_to_cloud: {enabled: false},"
                + " cloud_to_edge: {data_types: [settings]}}}\n"
                + "local_api: {port: -1}\n"
                + (keyFile == null
                    ? ""
                    : "storage: {encryption: {key_file: \""
                        + keyFile.toString().replace("\\", "/")
                        + "\"}}\n"));
    EdgeAgent agent = EdgeAgent.open(config);
    opened.add(agent);
    return agent;
  }

  private Path keyFile(String name, String ring) throws Exception {
    Path f = dir.resolve(name + ".keys");
    Files.writeString(f, ring + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    return f;
  }

  private static String newKey() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }

  private static int writerThreads() {
    int n = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("edgesync-outbox-writer") && t.isAlive()) {
        n++;
      }
    }
    return n;
  }

  private static StorageKeyException refused(ThrowingCallable call) {
    StorageKeyException e = catchThrowableOfType(StorageKeyException.class, call);
    assertThat(e).as("a StorageKeyException").isNotNull();
    return e;
  }
}

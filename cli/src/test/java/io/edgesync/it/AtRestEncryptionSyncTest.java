package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.server.SyncServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent with at-rest encryption queues records offline under key 1, is restarted with a keyring
 * that adds key 2 (rotation) and queues more, then meets a real server over a real socket: every
 * record arrives once, in order, in plaintext (encryption is at rest on the device only).
 */
class AtRestEncryptionSyncTest {
  private static final int PER_KEY = 300;

  @TempDir Path dir;

  @Test
  void recordsQueuedUnderTwoKeysAcrossARotation_reachTheCloudExactlyOnceInPlaintext()
      throws Exception {
    int port = Testbed.freePort();
    String key1 = "1:" + newKey();
    Path keys = keyFile(key1);
    AgentConfig config = Testbed.reliableAgent("dev-enc", port, dir).withStorageKeyFile(keys);

    try (EdgeAgent agent = EdgeAgent.open(config)) {
      for (long seq = 1; seq <= PER_KEY; seq++) {
        agent.append("sensor_data", Testbed.payload(seq));
      }
    }
    assertThat(fileContains(dir.resolve("edge/edgesync-agent.db"), Testbed.payload(1)))
        .as("a payload in plaintext in the outbox")
        .isFalse();

    Files.writeString(keys, key1 + "\n2:" + newKey() + "\n"); // rotate: key 2 seals from now
    try (EdgeAgent agent = EdgeAgent.open(config)) {
      for (long seq = PER_KEY + 1; seq <= 2 * PER_KEY; seq++) {
        agent.append("sensor_data", Testbed.payload(seq));
      }
      try (SyncServer server =
          SyncServer.start(Testbed.serverConfig(dir, port).withAddress("127.0.0.1", port))) {
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.metrics().synced() == 2 * PER_KEY);
        Testbed.assertExactlyOnceInOrder(server.store(), "dev-enc", "sensor_data", 2 * PER_KEY);
        assertThat(agent.metrics().pending()).isZero();
      }
    }
  }

  private Path keyFile(String ring) throws Exception {
    Path f = dir.resolve("storage.keys");
    Files.writeString(f, ring + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    return f;
  }

  private static String newKey() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }

  private static boolean fileContains(Path file, byte[] needle) throws Exception {
    String hay = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    return hay.contains(new String(needle, StandardCharsets.ISO_8859_1));
  }
}

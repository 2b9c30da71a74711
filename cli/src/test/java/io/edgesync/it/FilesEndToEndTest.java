package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.InstalledFile;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.DeviceRolloutState;
import io.edgesync.server.files.FileStore;
import io.edgesync.testing.FaultProxy;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files end to end: a real server signing with its release key, real agents over real sockets
 * through a fault proxy, real files on disk. A rollout installs on every device; the next version
 * crosses as a delta; a link cut in the middle of a download resumes without starting over; a
 * device that does not trust the key refuses, and the rollout shows why; an upload is stored.
 */
class FilesEndToEndTest {
  private static final String PATH = "firmware/gateway.img";

  @TempDir Path dir;
  SyncServer server;
  FaultProxy proxy;
  Path trusted;
  Path untrusted;

  @BeforeEach
  void start() throws Exception {
    KeyPair release = ReleaseKey.generate();
    Path keyFile = dir.resolve("release.key");
    ReleaseKey.writePrivateKey(keyFile, release.getPrivate());
    trusted = dir.resolve("release.pub");
    ReleaseKey.writePublicKey(trusted, release.getPublic());
    untrusted = dir.resolve("other.pub");
    ReleaseKey.writePublicKey(untrusted, ReleaseKey.generate().getPublic());
    server =
        SyncServer.start(
            ServerConfig.fromYaml(
                "server: {port: 0, data_dir: \""
                    + dir.resolve("cloud")
                    + "\", files: {release_key_file: \""
                    + keyFile
                    + "\"}}\n"));
    proxy = FaultProxy.start("127.0.0.1", server.port(), 13);
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(proxy, server);
  }

  private EdgeAgent agent(String id, Path keys) {
    AgentConfig c =
        Testbed.fastSync(AgentConfig.simple(id, Testbed.syncUrl(proxy.port()), dir.resolve(id)));
    c = c.withFiles(AgentConfig.FileSettings.defaults(dir.resolve(id).resolve("installed"), keys));
    return EdgeAgent.open(c);
  }

  private long publish(byte[] content) throws Exception {
    return server
        .files()
        .publish(
            new CloudFiles.PublishRequest(PATH, Map.of("build", "t"), null, null, null, "test"),
            new ByteArrayInputStream(content),
            System.currentTimeMillis())
        .header()
        .getVersion();
  }

  private FileStore.Rollout rollToFleet(long version) {
    return server
        .files()
        .createRollout(
            new CloudFiles.RolloutRequest(
                PATH, version, FileStore.TargetKind.FLEET, null, 1_000, 0.5, 1),
            "test",
            System.currentTimeMillis());
  }

  private static void awaitInstalled(EdgeAgent agent, long version, byte[] content) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> agent.files().installed(PATH).map(InstalledFile::version).orElse(0L) == version);
    InstalledFile f = agent.files().installed(PATH).orElseThrow();
    assertThat(readAll(f.file())).isEqualTo(content);
  }

  private static byte[] readAll(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void rolloutInstallsOnEveryDevice_theNextVersionCrossesAsADelta() throws Exception {
    byte[] v1 = FileTransferContent.mixed(1, 6 << 20);
    byte[] v2 = v1.clone();
    for (int i = 0; i < 20; i++) {
      v2[i * 300_000 + 777] ^= 0x3C;
    }
    try (EdgeAgent a = agent("gw-1", trusted);
        EdgeAgent b = agent("gw-2", trusted)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("gw-2"));
      long version1 = publish(v1);
      rollToFleet(version1);
      awaitInstalled(a, version1, v1);
      awaitInstalled(b, version1, v1);

      long downBefore = proxy.bytes(FaultProxy.Direction.DOWNSTREAM);
      long version2 = publish(v2);
      FileStore.Rollout r = rollToFleet(version2);
      awaitInstalled(a, version2, v2);
      awaitInstalled(b, version2, v2);
      long down = proxy.bytes(FaultProxy.Direction.DOWNSTREAM) - downBefore;
      // Two devices, 20 edits each: a few KB, nowhere near the 6 MiB file (or one chunk per edit).
      assertThat(down).isLessThan(2 * 20 * 16 * 1024);
      assertThat(a.files().installed(PATH).orElseThrow().previousVersion()).isEqualTo(version1);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  server.files().store().devices(r.id()).stream()
                      .allMatch(d -> d.state() == DeviceRolloutState.INSTALLED));
    }
  }

  @Test
  void linkCutInTheMiddleOfADownload_resumesFromWhatArrived() throws Exception {
    byte[] v1 = FileTransferContent.random(2, 24 << 20); // incompressible: bytes on the wire ≈ size
    try (EdgeAgent a = agent("gw-cut", trusted)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("gw-cut"));
      long downBefore = proxy.bytes(FaultProxy.Direction.DOWNSTREAM);
      long connectionsBefore = proxy.connectionsAccepted();
      proxy.cutAfter(FaultProxy.Direction.DOWNSTREAM, 12 << 20); // half way through
      long version = publish(v1);
      rollToFleet(version);
      awaitInstalled(a, version, v1);
      long down = proxy.bytes(FaultProxy.Direction.DOWNSTREAM) - downBefore;
      assertThat(proxy.connectionsAccepted() - connectionsBefore).isGreaterThanOrEqualTo(1);
      // Resumed, not restarted: the whole transfer is well under twice the file.
      assertThat(down).isLessThan(v1.length + (4 << 20));
    }
  }

  @Test
  void deviceThatDoesNotTrustTheKey_refuses_andTheRolloutShowsWhy() throws Exception {
    byte[] v1 = "firmware that must not run".getBytes(StandardCharsets.UTF_8);
    try (EdgeAgent a = agent("gw-wary", untrusted)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("gw-wary"));
      FileStore.Rollout r = rollToFleet(publish(v1));
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  server.files().store().devices(r.id()).stream()
                      .anyMatch(d -> d.state() == DeviceRolloutState.FAILED));
      FileStore.RolloutDevice d = server.files().store().devices(r.id()).get(0);
      assertThat(d.reason()).startsWith("untrusted_key: ");
      assertThat(a.files().installed(PATH)).isEmpty();
      assertThat(dir.resolve("gw-wary").resolve("installed").resolve(PATH)).doesNotExist();
    }
  }

  @Test
  void uploadReachesTheCloud_andASecondUploadSendsOnlyNewChunks() throws Exception {
    byte[] clip = FileTransferContent.random(3, 5 << 20);
    try (EdgeAgent a = agent("cam-1", trusted)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("cam-1"));
      a.files().upload("uploads", "door.mp4", new ByteArrayInputStream(clip));
      await().atMost(Duration.ofSeconds(30)).until(() -> stored("cam-1", "uploads/door.mp4", 1));
      try (InputStream in = server.files().openUpload("cam-1", "uploads/door.mp4", 1)) {
        assertThat(in.readAllBytes()).isEqualTo(clip);
      }
      // The same clip again under another name: the cloud holds every chunk, none crosses.
      long upBefore = proxy.bytes(FaultProxy.Direction.UPSTREAM);
      a.files().upload("uploads", "door-copy.mp4", new ByteArrayInputStream(clip));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> stored("cam-1", "uploads/door-copy.mp4", 1));
      assertThat(proxy.bytes(FaultProxy.Direction.UPSTREAM) - upBefore).isLessThan(256 << 10);
    }
  }

  private boolean stored(String device, String path, long version) {
    Optional<?> u =
        server.files().uploads().list(device, 100).stream()
            .filter(x -> x.path().equals(path) && x.version() == version)
            .filter(x -> x.state() == io.edgesync.protocol.wire.FileState.FILE_STATE_STORED)
            .findFirst();
    return u.isPresent();
  }

  /** Test contents: seeded, so a failure replays. */
  static final class FileTransferContent {
    static byte[] random(long seed, int bytes) {
      byte[] out = new byte[bytes];
      new SplittableRandom(seed).nextBytes(out);
      return out;
    }

    /** Runs of random bytes and of repeated log lines. */
    static byte[] mixed(long seed, int bytes) {
      SplittableRandom r = new SplittableRandom(seed);
      byte[] out = new byte[bytes];
      int at = 0;
      while (at < bytes) {
        int run = Math.min(bytes - at, 4096 + r.nextInt(60_000));
        if (r.nextBoolean()) {
          for (int i = 0; i < run; i++) {
            out[at + i] = (byte) r.nextInt(256);
          }
        } else {
          byte[] line =
              ("2026-12-06 INFO sensor " + r.nextInt(100) + " value=" + r.nextInt(1000) + "\n")
                  .getBytes(StandardCharsets.US_ASCII);
          for (int i = 0; i < run; i++) {
            out[at + i] = line[i % line.length];
          }
        }
        at += run;
      }
      return out;
    }
  }
}

package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.InstalledFile;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.FileStore;
import io.edgesync.testing.FaultProxy;
import io.edgesync.testing.FaultProxy.Direction;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * The files link figures with the real parts: a {@link SyncServer} signing with its release key and
 * an {@link EdgeAgent} (one device), over real loopback sockets through a {@link FaultProxy} that
 * counts the TCP payload bytes of each direction, cuts and throttles the link.
 *
 * <ul>
 *   <li>{@link #resume}: a seeded random (incompressible) file rolled out to the device, the link
 *       dropped every few seconds until it is installed; the same transfer uncut, in the same JVM;
 *       bytes on the wire of both, the installed file's SHA-256 checked.
 *   <li>{@link FilesFairness}: a priority-1 stream's append→cloud latency while a large file moves
 *       through a throttled link (download and upload).
 * </ul>
 *
 * <p>The agent syncs promptly (20 ms debounce, batches from one record, 50..500 ms reconnect
 * backoff, the integration tests' settings): the figures measure the link and the transfer, not the
 * default 1 s debounce.
 */
final class FilesLinkScenario {
  static final String PATH = "firmware/bench.img";
  static final String DEVICE = "bench-gw";
  static final String ALARMS = "alarms";
  static final String UPLOADS = "uploads";
  static final int UPLOAD_PRIORITY = AgentConfig.FileSettings.DEFAULT_UPLOAD_PRIORITY;

  private FilesLinkScenario() {}

  /** One transfer of the resume figure. */
  record Transfer(
      String name,
      long fileBytes,
      long up,
      long down,
      long cuts,
      long connections,
      double seconds,
      boolean sha256Matches) {
    long wire() {
      return up + down;
    }
  }

  /** How a transfer's link behaves: dropped every {@code cutEveryMs} (0: never), throttled. */
  private record Link(long cutEveryMs, long kbps, double timeoutSeconds, long seed) {}

  record ResumeResult(Transfer uncut, Transfer cut, long cutEveryMs, long kbps, long seed) {
    double extraPercent() {
      return 100.0 * (cut.wire() - uncut.wire()) / uncut.wire();
    }
  }

  /** A server with a release key and a fault proxy in front of it; closes both. */
  static final class Cloud implements AutoCloseable {
    final SyncServer server;
    final FaultProxy proxy;
    final Path releasePub;

    Cloud(Path dir, long seed) throws Exception {
      KeyPair release = ReleaseKey.generate();
      Path keyFile = dir.resolve("release.key");
      ReleaseKey.writePrivateKey(keyFile, release.getPrivate());
      releasePub = dir.resolve("release.pub");
      ReleaseKey.writePublicKey(releasePub, release.getPublic());
      server =
          SyncServer.start(
              ServerConfig.fromYaml(
                  "server: {port: 0, data_dir: \""
                      + dir.resolve("cloud")
                      + "\", files: {release_key_file: \""
                      + keyFile
                      + "\"}}\n"));
      proxy = FaultProxy.start("127.0.0.1", server.port(), seed);
    }

    /** Publishes {@code file} as the next version of {@link #PATH}; returns the version. */
    long publish(Path file) throws IOException {
      try (InputStream in = Files.newInputStream(file)) {
        return server
            .files()
            .publish(
                new CloudFiles.PublishRequest(
                    PATH, Map.of("bench", "files"), null, null, null, "b"),
                in,
                System.currentTimeMillis())
            .header()
            .getVersion();
      }
    }

    void rollOutToDevice(long version) {
      server
          .files()
          .createRollout(
              new CloudFiles.RolloutRequest(
                  PATH, version, FileStore.TargetKind.DEVICE, DEVICE, 1_000, 0.5, 1),
              "bench",
              System.currentTimeMillis());
    }

    EdgeAgent agent(Path dir) {
      URI url = URI.create("ws://127.0.0.1:" + proxy.port() + "/v1/sync");
      AgentConfig c = AgentConfig.simple(DEVICE, url, dir);
      c =
          c.withSync(
                  c.sync()
                      .withTriggers(true, 20, false, c.sync().intervalMs(), 1, 256 * 1024, 50)
                      .withLiveness(1_000, 5_000, 2_000, 2_000, 50, 500))
              .withStreams(Map.of(ALARMS, 1))
              .withFiles(
                  new AgentConfig.FileSettings(
                      dir.resolve("installed"),
                      releasePub,
                      AgentConfig.FileSettings.DEFAULT_MAX_FILE_BYTES,
                      true,
                      Map.of(UPLOADS, UPLOAD_PRIORITY)));
      return EdgeAgent.open(c);
    }

    void awaitConnected(double timeoutSeconds) throws InterruptedException {
      await(() -> server.isConnected(DEVICE), timeoutSeconds, "the device to connect");
    }

    @Override
    public void close() throws Exception {
      try {
        proxy.close();
      } finally {
        server.close();
      }
    }
  }

  /**
   * The resume figure: the uncut transfer, then the cut one, each with a fresh server and agent.
   */
  static ResumeResult resume(Path dir, Opts o) throws Exception {
    long size = o.longValue("resume-bytes", 32L << 20);
    long seed = o.longValue("files-seed", 1);
    long cutEveryMs = (long) (o.seconds("cut-every", 5) * 1000);
    double timeout = o.seconds("resume-timeout", 1_800);
    long kbps = o.longValue("resume-kbps", 0);
    Path source = dir.resolve("source.bin");
    String sha = writeRandom(source, size, seed);
    Bench.logf(
        "files-resume: %,d bytes of seeded random data (seed %d), sha256 %s", size, seed, sha);
    Link uncut = new Link(0, kbps, timeout, seed);
    Link cut = new Link(cutEveryMs, kbps, timeout, seed);
    return new ResumeResult(
        transfer(dir.resolve("uncut"), source, sha, uncut),
        transfer(dir.resolve("cut"), source, sha, cut),
        cutEveryMs,
        kbps,
        seed);
  }

  /** One rollout of {@code source} to a new device over {@code link}. */
  private static Transfer transfer(Path dir, Path source, String sha, Link link) throws Exception {
    long cutEveryMs = link.cutEveryMs();
    String name = cutEveryMs > 0 ? "cut every " + cutEveryMs + " ms" : "uncut";
    Files.createDirectories(dir);
    try (Cloud cloud = new Cloud(dir, link.seed())) {
      if (link.kbps() > 0) {
        cloud.proxy.throttle(Direction.UPSTREAM, link.kbps() * 1000);
        cloud.proxy.throttle(Direction.DOWNSTREAM, link.kbps() * 1000);
      }
      long p0 = System.nanoTime();
      long version = cloud.publish(source);
      Bench.logf("  %s: published in %.1f s", name, (System.nanoTime() - p0) / 1e9);
      try (EdgeAgent agent = cloud.agent(dir.resolve("edge"))) {
        cloud.awaitConnected(30);
        long up0 = cloud.proxy.bytes(Direction.UPSTREAM);
        long down0 = cloud.proxy.bytes(Direction.DOWNSTREAM);
        long conn0 = cloud.proxy.connectionsAccepted();
        long t0 = System.nanoTime();
        cloud.rollOutToDevice(version);
        long cuts =
            awaitInstalled(cloud.proxy, agent, version, cutEveryMs, link.timeoutSeconds(), t0);
        double seconds = (System.nanoTime() - t0) / 1e9;
        Transfer t =
            new Transfer(
                name,
                Files.size(source),
                cloud.proxy.bytes(Direction.UPSTREAM) - up0,
                cloud.proxy.bytes(Direction.DOWNSTREAM) - down0,
                cuts,
                cloud.proxy.connectionsAccepted() - conn0,
                seconds,
                sha.equals(sha256(agent.files().installed(PATH).orElseThrow().file())));
        Bench.logf(
            "  %s: installed in %.1f s, %,d bytes up + %,d down, %d cuts, sha256 %s",
            name, seconds, t.up(), t.down(), t.cuts(), t.sha256Matches() ? "matches" : "DIFFERS");
        return t;
      }
    }
  }

  /** Waits for the install, dropping the link every {@code cutEveryMs} (0: never); cuts made. */
  private static long awaitInstalled(
      FaultProxy proxy, EdgeAgent agent, long version, long cutEveryMs, double timeout, long t0)
      throws InterruptedException {
    long deadline = t0 + (long) (timeout * 1e9);
    long nextCut = cutEveryMs > 0 ? t0 + cutEveryMs * 1_000_000 : Long.MAX_VALUE;
    long nextLog = t0 + 10_000_000_000L;
    long cuts = 0;
    while (agent.files().installed(PATH).map(InstalledFile::version).orElse(0L) != version) {
      long now = System.nanoTime();
      if (now > deadline) {
        throw new IllegalStateException(
            "not installed after " + timeout + " s: " + agent.files().downloads());
      }
      if (now >= nextCut) {
        logCut(proxy, agent, cuts + 1);
        proxy.dropConnections();
        cuts++;
        nextCut += cutEveryMs * 1_000_000;
      }
      if (now >= nextLog) {
        Bench.logf("  ... %.0f s: %s, %d cuts", (now - t0) / 1e9, progress(agent), cuts);
        nextLog += 10_000_000_000L;
      }
      Thread.sleep(20);
    }
    return cuts;
  }

  /**
   * What crossed the link against what the device holds durably, just before a cut: their
   * difference grows by what each cut throws away (in flight, in socket buffers, a partial frame)
   * plus the framing overhead.
   */
  private static void logCut(FaultProxy proxy, EdgeAgent agent, long cut) {
    long down = proxy.bytes(Direction.DOWNSTREAM);
    long done = agent.files().downloads().stream().findFirst().map(d -> d.bytesDone()).orElse(0L);
    Bench.logf(
        "  cut %d: %,d bytes down through the proxy, %,d held by the device, %,d not (yet) held",
        cut, down, done, down - done);
  }

  static String progress(EdgeAgent agent) {
    return agent.files().downloads().stream()
        .findFirst()
        .map(d -> String.format("%s %,d of %,d bytes", d.state(), d.bytesDone(), d.bytesTotal()))
        .orElse("no download yet");
  }

  /** Writes {@code size} seeded random bytes to {@code file}; returns their SHA-256 (hex). */
  static String writeRandom(Path file, long size, long seed) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    SplittableRandom r = new SplittableRandom(seed);
    byte[] block = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long left = size; left > 0; left -= block.length) {
        r.nextBytes(block);
        int n = (int) Math.min(left, block.length);
        out.write(block, 0, n);
        md.update(block, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static void await(BooleanSupplier condition, double timeoutSeconds, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "timed out after " + timeoutSeconds + " s waiting for " + what);
      }
      Thread.sleep(10);
    }
  }
}

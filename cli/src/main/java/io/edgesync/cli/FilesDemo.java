package io.edgesync.cli;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.DownloadStatus;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.InstalledFile;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.DeviceRolloutState;
import io.edgesync.server.files.FileSettings;
import io.edgesync.server.files.FileStore;
import io.edgesync.server.files.FileStore.RolloutDevice;
import io.edgesync.server.files.FileStore.StoredVersion;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code edgesync demo --files}: a firmware rollout on one machine. The server signs with a release
 * key made for the run, and devices that trust its public key connect over mutual TLS through a
 * relay. v1 of {@value #PATH} rolls out at {@value #RATE_PER_MIN} devices a minute; the link is cut
 * in the middle of the downloads and healed, and they go on from what they hold. v2 (a few small
 * edits and an insert) rolls out and crosses as a delta. The summary checks every device installed
 * v2 byte-identical with v1 kept as previous, and the exit code says whether it did.
 *
 * <p>Not thread safe: one run on the calling thread (the server and agents have their own).
 */
final class FilesDemo {
  static final String PATH = "firmware/gateway.img";
  private static final int RATE_PER_MIN = 60;

  /**
   * The link is cut once it has carried this share of the fleet's bytes (devices x image size)
   * since the rollout began: counted by the relay as the bytes pass, so the cut lands mid-download
   * however fast they run (v1 crosses in about 3/4 of its size, zstd).
   */
  private static final double CUT_AT_SHARE = 0.25;

  private static final long CUT_MS = 4_000;
  private static final long PHASE_TIMEOUT_MS = 120_000;
  private static final long TICK_MS = 250;

  /** v2 counts as a delta when each device received less than this share of its size. */
  private static final double DELTA_MAX_SHARE = 0.05;

  private final int devices;
  private final int imageBytes;
  private final Path dir;
  private final long startNanos = System.nanoTime();
  private final List<EdgeAgent> agents = new ArrayList<>();
  private final Map<String, Printed> printed = new HashMap<>();
  private SyncServer server;
  private TcpRelay link;

  /** What one version's rollout did, as the cloud and the link saw it. */
  record Phase(
      StoredVersion version,
      List<RolloutDevice> rows,
      long linkBytesDown,
      Map<String, Long> heldAtCut,
      List<String> problems) {}

  /** The last line printed for a device and version, to print only changes. */
  private record Printed(DeviceRolloutState state, String line, long atMs) {}

  private FilesDemo(int devices, int imageBytes, Path dir) {
    this.devices = devices;
    this.imageBytes = imageBytes;
    this.dir = dir;
  }

  /** Runs the demo in {@code dir}; returns the exit code (0: every check passed). */
  static int run(int devices, int imageMiB, Path dir) throws Exception {
    if (devices < 1 || devices > 100 || imageMiB < 1 || imageMiB > 1024) {
      throw new IllegalArgumentException("--devices must be 1..100 and --image-mib 1..1024");
    }
    return new FilesDemo(devices, imageMiB << 20, dir).run();
  }

  private int run() throws Exception {
    if (Files.isDirectory(dir)) {
      try (var entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(
              "--data-dir '" + dir + "' is not empty: the files demo starts from an empty one");
        }
      }
    }
    Path release = Files.createDirectories(dir.resolve("release"));
    Path publicKey = releaseKey(release);
    byte[] v1 = DemoFirmware.v1(1, imageBytes);
    byte[] v2 = DemoFirmware.v2(2, v1);
    Files.write(release.resolve("gateway-v1.img"), v1);
    Files.write(release.resolve("gateway-v2.img"), v2);
    try {
      startFleet(release.resolve("release.key"), publicKey);
      System.out.printf(
          "edgesync demo --files: server on port %d, %d devices over mutual TLS through a"
              + " relay%nrelease key %s in %s; data in %s%n",
          server.port(), devices, keyIdOf(publicKey), release, dir);
      awaitConnected();
      Phase first = rollout(publish(release.resolve("gateway-v1.img"), "1.0.0"), true);
      Phase second = rollout(publish(release.resolve("gateway-v2.img"), "1.0.1"), false);
      return summary(first, second);
    } finally {
      for (EdgeAgent a : agents) {
        a.close();
      }
      if (link != null) {
        link.close();
      }
      if (server != null) {
        server.close();
      }
    }
  }

  /** Makes the run's release key: the server signs with it, the devices trust its public key. */
  private static Path releaseKey(Path release) throws IOException {
    KeyPair key = ReleaseKey.generate();
    ReleaseKey.writePrivateKey(release.resolve("release.key"), key.getPrivate());
    Path pub = release.resolve("release.pub");
    ReleaseKey.writePublicKey(pub, key.getPublic());
    return pub;
  }

  private static String keyIdOf(Path publicKey) throws IOException {
    return ReleaseKey.keyId(ReleaseKey.readPublicKeys(publicKey).get(0));
  }

  private void startFleet(Path privateKey, Path publicKey) throws IOException {
    DemoPki pki = DemoPki.create(dir.resolve("pki"));
    server =
        SyncServer.start(
            ServerConfig.defaults(dir.resolve("cloud"))
                .withAddress("127.0.0.1", 0)
                .withTls(pki.serverTls())
                .withFiles(FileSettings.defaults().withReleaseKeyFile(privateKey)));
    link = new TcpRelay(server.port());
    for (int d = 0; d < devices; d++) {
      String id = String.format("demo-device-%02d", d + 1);
      AgentConfig c =
          pki.agentConfig(
              id, URI.create("wss://127.0.0.1:" + link.port() + "/v1/sync"), dir.resolve(id));
      agents.add(
          EdgeAgent.open(
              c.withSync(DemoCommand.demoPolicy(c.sync()))
                  .withFiles(
                      AgentConfig.FileSettings.defaults(
                          dir.resolve(id).resolve("installed"), publicKey))));
    }
  }

  /** The fleet a rollout targets is the devices the cloud knows: wait until all have connected. */
  private void awaitConnected() throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!agents.stream().allMatch(a -> server.isConnected(a.deviceId()))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the devices did not connect within 30 s");
      }
      Thread.sleep(100);
    }
  }

  private StoredVersion publish(Path image, String build) throws IOException {
    StoredVersion v;
    try (InputStream in = Files.newInputStream(image)) {
      v =
          server
              .files()
              .publish(
                  new CloudFiles.PublishRequest(
                      PATH, Map.of("build", build), null, null, null, "demo"),
                  in,
                  System.currentTimeMillis());
    }
    System.out.printf(
        "%n== %6.1fs  published %s v%d (build %s): %s in %d chunks, sha256 %s…, signed by %s%n",
        seconds(),
        PATH,
        v.header().getVersion(),
        build,
        size(v.header().getSize()),
        v.chunkCount(),
        hex(v.header().getSha256().toByteArray()).substring(0, 16),
        v.keyId());
    return v;
  }

  /** Rolls {@code v} out to the fleet and watches it to the end; {@code cut}: cut the link once. */
  private Phase rollout(StoredVersion v, boolean cut) throws InterruptedException {
    long version = v.header().getVersion();
    FileStore.Rollout r =
        server
            .files()
            .createRollout(
                new CloudFiles.RolloutRequest(
                    PATH, version, FileStore.TargetKind.FLEET, null, RATE_PER_MIN, 0.5, devices),
                "demo",
                System.currentTimeMillis());
    System.out.printf(
        "== %6.1fs  rollout %d: v%d to the fleet at %d devices/min%n",
        seconds(), r.id(), version, RATE_PER_MIN);
    long linkBefore = link.bytesDown();
    LinkCut linkCut = cut ? new LinkCut(version, v.header().getSize()) : null;
    long deadline = System.nanoTime() + PHASE_TIMEOUT_MS * 1_000_000;
    List<RolloutDevice> rows = server.files().store().devices(r.id());
    while (!allFinal(rows) && System.nanoTime() < deadline) {
      if (linkCut != null) {
        linkCut.tick();
      }
      printChanges(version, rows);
      Thread.sleep(TICK_MS);
      rows = server.files().store().devices(r.id());
    }
    printChanges(version, rows);
    link.cutWhenBytesDownReach(Long.MAX_VALUE); // disarm, if the phase ended before it fired
    link.heal();
    List<String> problems = new ArrayList<>();
    if (!allFinal(rows)) {
      problems.add(
          "the v" + version + " rollout did not finish within " + PHASE_TIMEOUT_MS / 1000 + " s");
    }
    if (linkCut != null) {
      problems.addAll(linkCut.problems());
    }
    return new Phase(
        v,
        rows,
        link.bytesDown() - linkBefore,
        linkCut == null ? Map.of() : linkCut.heldAtCut,
        problems);
  }

  private boolean allFinal(List<RolloutDevice> rows) {
    return rows.size() == devices && rows.stream().allMatch(d -> d.state().isFinal());
  }

  /**
   * Has the relay cut the link once it carried {@link #CUT_AT_SHARE} of the fleet's bytes, heals it
   * {@link #CUT_MS} later, and watches each device's own count of verified bytes: it must never go
   * back (a download that started over would).
   */
  private final class LinkCut {
    final long version;
    final long size;
    final Map<String, Long> heldAtCut = new LinkedHashMap<>();
    final Map<String, Long> held = new HashMap<>();
    final List<String> startedOver = new ArrayList<>();
    long cutAtNanos;
    long lastDownLineNanos;

    LinkCut(long version, long size) {
      this.version = version;
      this.size = size;
      link.cutWhenBytesDownReach(link.bytesDown() + (long) (CUT_AT_SHARE * devices * size));
    }

    void tick() {
      Map<String, Long> now = heldOnDevices();
      for (Map.Entry<String, Long> e : now.entrySet()) {
        long before = held.getOrDefault(e.getKey(), 0L);
        if (e.getValue() < before && !startedOver.contains(e.getKey())) {
          startedOver.add(
              e.getKey()
                  + ": the v"
                  + version
                  + " download started over after the cut (held "
                  + size(before)
                  + ", then "
                  + size(e.getValue())
                  + ")");
        }
        held.merge(e.getKey(), e.getValue(), Math::max);
      }
      if (cutAtNanos == 0 && link.isCut()) {
        cut(now);
      } else if (link.isCut() && System.nanoTime() - cutAtNanos >= CUT_MS * 1_000_000) {
        link.heal();
        System.out.printf(
            "-- %6.1fs  link HEALED: the devices reconnect and ask only for the chunks they lack%n",
            seconds());
      } else if (link.isCut() && System.nanoTime() - lastDownLineNanos >= 1_000_000_000L) {
        lastDownLineNanos = System.nanoTime();
        System.out.printf("%6.1fs  link DOWN  held on the devices: %s%n", seconds(), describe(now));
      }
    }

    private void cut(Map<String, Long> now) {
      cutAtNanos = System.nanoTime();
      lastDownLineNanos = cutAtNanos;
      heldAtCut.putAll(now);
      System.out.printf(
          "-- %6.1fs  link CUT for %d s in the middle of the downloads; held on the devices: %s%n",
          seconds(), CUT_MS / 1000, describe(now));
    }

    /** Each device's verified bytes of this version, from its own store (0 before it starts). */
    private Map<String, Long> heldOnDevices() {
      Map<String, Long> out = new LinkedHashMap<>();
      for (EdgeAgent a : agents) {
        long done = 0;
        for (DownloadStatus s : a.files().downloads()) {
          if (s.path().equals(PATH) && s.version() == version) {
            done = s.bytesDone();
          }
        }
        out.put(a.deviceId(), done);
      }
      return out;
    }

    private String describe(Map<String, Long> held) {
      List<String> parts = new ArrayList<>();
      held.forEach((device, bytes) -> parts.add(device + " " + size(bytes)));
      return String.join(", ", parts);
    }

    List<String> problems() {
      List<String> out = new ArrayList<>(startedOver);
      boolean midDownload = heldAtCut.values().stream().anyMatch(b -> b > 0 && b < size);
      if (!midDownload) {
        out.add("the link cut missed the v" + version + " downloads (none was under way)");
      }
      return out;
    }
  }

  /** A line per device whose state changed, or whose progress moved a second after its last. */
  private void printChanges(long version, List<RolloutDevice> rows) {
    long nowMs = System.nanoTime() / 1_000_000;
    for (RolloutDevice d : rows) {
      String key = d.device() + "/" + version;
      Printed last = printed.get(key);
      String line = progressLine(version, d);
      boolean stateChanged = last == null || last.state() != d.state();
      boolean moved = last != null && !line.equals(last.line()) && nowMs - last.atMs() >= 1_000;
      if (stateChanged || moved) {
        printed.put(key, new Printed(d.state(), line, nowMs));
        System.out.printf("%6.1fs  link %-4s  %s%n", seconds(), link.isCut() ? "DOWN" : "UP", line);
      }
    }
  }

  /** The operator's view of one device, as the rollout's row in the cloud has it. */
  private static String progressLine(long version, RolloutDevice d) {
    String line =
        String.format(Locale.ROOT, "%-15s v%d  %-11s", d.device(), version, d.state().label());
    if (d.state() == DeviceRolloutState.PENDING || d.state() == DeviceRolloutState.OFFERED) {
      return line;
    }
    return line
        + String.format(
            Locale.ROOT,
            " %3d%%  %9s of %-9s  on the wire %9s",
            d.bytesTotal() == 0 ? 0 : d.bytesDone() * 100 / d.bytesTotal(),
            size(d.bytesDone()),
            size(d.bytesTotal()),
            size(d.bytesReceived()));
  }

  // ---------------------------------------------------------------- summary

  /** What one device holds at the end, against what was published. */
  private record DeviceEnd(
      String id,
      RolloutDevice first,
      RolloutDevice second,
      InstalledFile installed,
      boolean sameAsPublished,
      boolean previousKept) {}

  /** Checks what every device holds against what was published; 0 if all is as it should be. */
  private int summary(Phase first, Phase second) throws IOException {
    List<String> problems = new ArrayList<>(first.problems());
    problems.addAll(second.problems());
    long v1 = first.version().header().getVersion();
    long v2 = second.version().header().getVersion();
    System.out.printf(
        "%ndevice            v%d on the wire  v%d on the wire  installed  sha256 = published"
            + "  previous%n",
        v1, v2);
    for (EdgeAgent a : agents) {
      DeviceEnd d = deviceEnd(a, first, second);
      System.out.printf(
          "%-16s %15s %15s  %-9s  %-18s  %s%n",
          d.id(),
          d.first() == null ? "-" : size(d.first().bytesReceived()),
          d.second() == null ? "-" : size(d.second().bytesReceived()),
          d.installed() == null ? "none" : "v" + d.installed().version(),
          d.sameAsPublished() ? "yes" : "NO",
          d.previousKept() ? "v" + v1 + " (sha256 = published)" : "NOT v" + v1);
      problems.addAll(problems(d, v1, v2, second.version().header().getSize()));
    }
    printTotals(first, second);
    if (problems.isEmpty()) {
      System.out.printf(
          "%nPASS: every device installed v%d byte-identical (sha256 = published) with v%d kept"
              + " as previous;%n      the cut v%d downloads went on from what they held, and v%d"
              + " crossed as a delta.%n",
          v2, v1, v1, v2);
      return 0;
    }
    System.out.printf("%nFAIL:%n");
    problems.forEach(p -> System.out.println("  - " + p));
    return 1;
  }

  /** Reads the device's installed file and its kept version back, and hashes both. */
  private static DeviceEnd deviceEnd(EdgeAgent a, Phase first, Phase second) throws IOException {
    String sha1 = hex(first.version().header().getSha256().toByteArray());
    String sha2 = hex(second.version().header().getSha256().toByteArray());
    InstalledFile f = a.files().installed(PATH).orElse(null);
    boolean same =
        f != null
            && f.version() == second.version().header().getVersion()
            && sha256(f.file()).equals(sha2);
    boolean previousKept =
        f != null
            && f.previousVersion() == first.version().header().getVersion()
            && f.previousFile() != null
            && sha256(f.previousFile()).equals(sha1);
    String id = a.deviceId();
    return new DeviceEnd(id, row(first, id), row(second, id), f, same, previousKept);
  }

  private static List<String> problems(DeviceEnd d, long v1, long v2, long size2) {
    List<String> out = new ArrayList<>();
    String id = d.id();
    for (RolloutDevice r : new RolloutDevice[] {d.first(), d.second()}) {
      if (r != null && r.state() != DeviceRolloutState.INSTALLED) {
        String reason = r.reason() == null ? "" : " (" + r.reason() + ")";
        out.add(id + ": rollout " + r.rollout() + " ended " + r.state().label() + reason);
      }
    }
    if (d.first() == null || d.second() == null) {
      out.add(id + ": not targeted by both rollouts");
    }
    if (!d.sameAsPublished()) {
      out.add(
          id
              + ": "
              + (d.installed() == null
                  ? "nothing installed"
                  : "installed v" + d.installed().version() + " is not the published v" + v2));
    }
    if (!d.previousKept()) {
      out.add(id + ": v" + v1 + " is not kept as the previous version");
    }
    long deltaMaxBytes = (long) (DELTA_MAX_SHARE * size2);
    if (d.second() != null && d.second().bytesReceived() >= deltaMaxBytes) {
      out.add(
          String.format(
              "%s: v%d took %s on the wire, not a delta (under %s)",
              id, v2, size(d.second().bytesReceived()), size(deltaMaxBytes)));
    }
    return out;
  }

  private void printTotals(Phase first, Phase second) {
    long size1 = first.version().header().getSize();
    long size2 = second.version().header().getSize();
    long wire1 = first.rows().stream().mapToLong(RolloutDevice::bytesReceived).sum();
    long wire2 = second.rows().stream().mapToLong(RolloutDevice::bytesReceived).sum();
    System.out.printf(
        "%nv1: %d x %s = %s published; %s on the wire as the devices counted it (the link"
            + " carried %s)%n    the link was cut while v1 was part-way on %s%n",
        devices,
        size(size1),
        size(devices * size1),
        size(wire1),
        size(first.linkBytesDown()),
        partWay(first.heldAtCut(), size1));
    System.out.printf(
        "v2: %d x %s = %s published (%d edits of 1-8 bytes, %s inserted); %s on the wire"
            + " (the link carried %s): %.2f %% of the size%n",
        devices,
        size(size2),
        size(devices * size2),
        DemoFirmware.EDITS,
        size(DemoFirmware.INSERT_BYTES),
        size(wire2),
        size(second.linkBytesDown()),
        100.0 * wire2 / (devices * (double) size2));
  }

  /** "demo-device-01 (2.4 MiB held), ..." for the devices that held part of the file. */
  private static String partWay(Map<String, Long> held, long size) {
    List<String> parts = new ArrayList<>();
    held.forEach(
        (device, bytes) -> {
          if (bytes > 0 && bytes < size) {
            parts.add(device + " (" + size(bytes) + " held)");
          }
        });
    return parts.isEmpty() ? "no device" : String.join(", ", parts);
  }

  private static RolloutDevice row(Phase p, String device) {
    return p.rows().stream().filter(r -> r.device().equals(device)).findFirst().orElse(null);
  }

  private double seconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  static String size(long bytes) {
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
  }

  private static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return hex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}

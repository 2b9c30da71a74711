package io.edgesync.bench;

import io.edgesync.agent.EdgeAgent;
import io.edgesync.testing.FaultProxy.Direction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The fairness figure: while a large file crosses a link throttled to {@code --fair-kbps} each way
 * ({@link io.edgesync.testing.FaultProxy#throttle}), a priority-1 stream on the same device appends
 * a small record every {@code --fair-every} and the runner measures each record's append→cloud
 * latency: from just before {@link EdgeAgent#append} to the moment the cloud's durable checkpoint
 * of the stream ({@code server.store().checkpoints}, polled every 2 ms) covers it. Both directions:
 * a download (a rollout of a published file, the engine's file priority 8) and an upload ({@code
 * files().upload}, the upload collection's priority 10), which shares the uplink with the records.
 * The file need not complete; the figure also reports how fast the file moved meanwhile, so a
 * fairness bought by stalling the file shows.
 */
final class FilesFairness {
  private FilesFairness() {}

  record Result(
      String direction,
      long fileBytes,
      long kbps,
      long everyMs,
      double seconds,
      Stats.Latency latency,
      long appended,
      long committed,
      long fileWireBytes) {
    double fileKbps() {
      return fileWireBytes * 8 / seconds / 1000;
    }

    String summary() {
      return String.format(
          Locale.ROOT,
          "%s: %d of %d records committed, %s; file link %.0f kbit/s of %d",
          direction,
          committed,
          appended,
          latency,
          fileKbps(),
          kbps);
    }
  }

  static Result run(Path dir, Opts o, boolean upload) throws Exception {
    long size = o.longValue("fair-bytes", 32L << 20);
    long kbps = o.longValue("fair-kbps", 1_000);
    long everyMs = (long) (o.seconds("fair-every", 0.2) * 1000);
    double seconds = o.seconds("fair-seconds", 30);
    long seed = o.longValue("files-seed", 1);
    String direction = upload ? "upload (edge→cloud)" : "download (cloud→edge)";
    Files.createDirectories(dir);
    Path source = dir.resolve("source.bin");
    FilesLinkScenario.writeRandom(source, size, seed);
    try (FilesLinkScenario.Cloud cloud = new FilesLinkScenario.Cloud(dir, seed)) {
      long version = upload ? 0 : cloud.publish(source);
      try (EdgeAgent agent = cloud.agent(dir.resolve("edge"))) {
        cloud.awaitConnected(30);
        cloud.proxy.throttle(Direction.UPSTREAM, kbps * 1000);
        cloud.proxy.throttle(Direction.DOWNSTREAM, kbps * 1000);
        Direction fileWay = upload ? Direction.UPSTREAM : Direction.DOWNSTREAM;
        if (upload) {
          agent.files().upload(FilesLinkScenario.UPLOADS, "bench.bin", source);
        } else {
          cloud.rollOutToDevice(version);
        }
        awaitFileMoving(cloud, fileWay);
        Bench.logf("files-fair %s: the file is moving; measuring for %.0f s", direction, seconds);
        long wire0 = cloud.proxy.bytes(fileWay);
        Sampler s = measure(cloud, agent, everyMs, seconds);
        long wire = cloud.proxy.bytes(fileWay) - wire0;
        Result r =
            new Result(
                direction,
                size,
                kbps,
                everyMs,
                seconds,
                Stats.Latency.of(s.latencies, s.committed),
                s.appended,
                s.committed,
                wire);
        Bench.log("files-fair " + r.summary());
        return r;
      }
    }
  }

  /** Waits until 256 KiB of the file crossed: the transfer, not its offer, is under way. */
  private static void awaitFileMoving(FilesLinkScenario.Cloud cloud, Direction way)
      throws InterruptedException {
    long start = cloud.proxy.bytes(way);
    FilesLinkScenario.await(
        () -> cloud.proxy.bytes(way) - start > 256 << 10, 120, "the file transfer to start");
  }

  /** The appends and their latencies (nanoseconds) for as many as were committed. */
  private static final class Sampler {
    long[] appendNanos;
    long[] latencies;
    int appended;
    int committed;
  }

  /**
   * Appends one record every {@code everyMs} for {@code seconds}, polling the cloud's checkpoint in
   * between; then waits up to 30 s more for the last ones to be committed.
   */
  private static Sampler measure(
      FilesLinkScenario.Cloud cloud, EdgeAgent agent, long everyMs, double seconds)
      throws InterruptedException {
    int n = (int) Math.ceil(seconds * 1000 / everyMs);
    Sampler s = new Sampler();
    s.appendNanos = new long[n];
    s.latencies = new long[n];
    long firstSeq = -1;
    long t0 = System.nanoTime();
    long drainDeadline = t0 + (long) (seconds * 1e9) + 30_000_000_000L;
    while (s.committed < n && System.nanoTime() < drainDeadline) {
      long now = System.nanoTime();
      if (s.appended < n && now >= t0 + s.appended * everyMs * 1_000_000L) {
        s.appendNanos[s.appended] = now;
        long seq = agent.append(FilesLinkScenario.ALARMS, payload(s.appended)).firstSequence();
        if (firstSeq < 0) {
          firstSeq = seq;
        }
        s.appended++;
      }
      long cp =
          cloud
              .server
              .store()
              .checkpoints(FilesLinkScenario.DEVICE)
              .getOrDefault(FilesLinkScenario.ALARMS, 0L);
      long seen = System.nanoTime();
      while (firstSeq > 0 && s.committed < s.appended && firstSeq + s.committed <= cp) {
        s.latencies[s.committed] = seen - s.appendNanos[s.committed];
        s.committed++;
      }
      Thread.sleep(2);
    }
    return s;
  }

  private static byte[] payload(int i) {
    return ("{\"alarm\":" + i + ",\"level\":\"high\",\"sensor\":\"door-3\"}")
        .getBytes(StandardCharsets.UTF_8);
  }
}

package io.edgesync.bench;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** How fast the disk under the data directory makes a small append durable (write + fdatasync). */
final class FsyncProbe {
  record Result(double fsyncsPerSecond, Stats.Latency latency) {}

  static Result run(Path dir, double seconds) throws Exception {
    Path file = dir.resolve("fsync-probe.bin");
    long[] lat = new long[1 << 20];
    int n = 0;
    ByteBuffer block = ByteBuffer.allocate(4096);
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      long end = System.nanoTime() + (long) (seconds * 1e9);
      long start = System.nanoTime();
      long now = start;
      while (now < end && n < lat.length) {
        block.clear();
        long t0 = System.nanoTime();
        ch.write(block);
        ch.force(false);
        now = System.nanoTime();
        lat[n++] = now - t0;
      }
      Result r = new Result(n / ((now - start) / 1e9), Stats.Latency.of(lat, n));
      Bench.logf(
          "fsync probe: %s write(4 KiB)+fdatasync per second; %s",
          Stats.rate(r.fsyncsPerSecond()), r.latency());
      return r;
    } finally {
      Files.deleteIfExists(file);
    }
  }
}

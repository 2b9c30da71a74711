package io.edgesync.bench;

import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.Manifest;
import io.edgesync.security.ReleaseKey;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The files bench (docs/benchmarks.md, "Files"): a seeded 64 MiB mixed file and five transfers of a
 * new version, every byte of the protocol exchange counted ({@link FilesExchange}), against
 * xdelta3, zstd and rsync run on the same files in the same sitting (each only if installed: a
 * missing tool is reported, never a failure).
 */
final class FilesScenario {
  static final int FILE_BYTES = 64 << 20;
  static final long MIB_64 = 64L << 20;

  /** One case: how the new version is made and what the receiver holds. */
  enum Kind {
    EDITS("(a) 100 small edits", true, 1.5),
    INSERT("(b) 1 MiB inserted in the middle", true, 1.1),
    APPEND("(c) 4 MiB appended", true, 1.1),
    NO_BASE("(d) no base (new device)", false, 1.05),
    SHARED("(e) other file, 90 % shared", false, 0.15);

    final String label;
    final boolean delta;
    final double goal;

    Kind(String label, boolean delta, double goal) {
      this.label = label;
      this.delta = delta;
      this.goal = goal;
    }
  }

  record CaseResult(
      Kind kind,
      long targetBytes,
      FilesExchange.Result ours,
      long xdelta3,
      long zstdPatch,
      long zstd3,
      long rsync,
      long bestEncodeCpuNanos,
      long bestApplyCpuNanos,
      long bestEncodeWallNanos,
      long bestApplyWallNanos) {
    /** Ours over the goal's anchor: xdelta3 for deltas, zstd -3 with no base, the size for (e). */
    double ratio() {
      return switch (kind) {
        case NO_BASE -> zstd3 > 0 ? (double) ours.wireBytes() / zstd3 : Double.NaN;
        case SHARED -> (double) ours.wireBytes() / targetBytes;
        default -> xdelta3 > 0 ? (double) ours.wireBytes() / xdelta3 : Double.NaN;
      };
    }

    double perFile(long nanos) {
      return nanos / 1e6 * MIB_64 / targetBytes;
    }
  }

  record Result(List<CaseResult> cases, long seed, String tools) {}

  private FilesScenario() {}

  static Result run(Path dir, Opts o, PrintStream out) throws Exception {
    long seed = o.longValue("files-seed", 1);
    int rounds = Math.max(1, o.integer("rounds", 3));
    Bench.logf("files: generating %d MiB of mixed content (seed %d)", FILE_BYTES >> 20, seed);
    byte[] base = FilesData.mixed(seed, FILE_BYTES);
    Path baseFile = dir.resolve("base.bin");
    Files.write(baseFile, base);
    Manifest baseManifest = Manifest.of(new ByteArrayInputStream(base), FastCdc.DEFAULT);
    FilesExchange.Held held = new FilesExchange.Held(1, baseFile, base, baseManifest);
    KeyPair key = ReleaseKey.generate();
    String tools = Anchors.prepare(dir);
    List<CaseResult> cases = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      byte[] target = target(kind, base, seed);
      Path targetFile = dir.resolve("new-" + kind.name().toLowerCase(Locale.ROOT) + ".bin");
      Files.write(targetFile, target);
      cases.add(measure(kind, target, targetFile, held, key, rounds, dir));
      Files.delete(targetFile);
    }
    return new Result(cases, seed, tools);
  }

  static byte[] target(Kind kind, byte[] base, long seed) {
    return switch (kind) {
      case EDITS -> FilesData.smallEdits(base, 100, seed + 10);
      case INSERT ->
          FilesData.insert(base, base.length / 2 + 12_345, FilesData.mixed(seed + 20, 1 << 20));
      case APPEND -> FilesData.insert(base, base.length, FilesData.mixed(seed + 30, 4 << 20));
      case NO_BASE -> base;
      case SHARED -> FilesData.sharing(base, 0.10, 32, seed + 40);
    };
  }

  private static CaseResult measure(
      Kind kind,
      byte[] target,
      Path targetFile,
      FilesExchange.Held held,
      KeyPair key,
      int rounds,
      Path dir)
      throws Exception {
    FilesExchange.Result first = null;
    long encCpu = Long.MAX_VALUE;
    long appCpu = Long.MAX_VALUE;
    long encWall = Long.MAX_VALUE;
    long appWall = Long.MAX_VALUE;
    Path received = dir.resolve("received.bin");
    for (int round = 0; round < rounds; round++) {
      FilesExchange.Result r =
          new FilesExchange(key)
              .run(
                  kind == Kind.SHARED ? "models/detector.onnx" : "firmware/gateway.img",
                  kind.delta ? 2 : 1,
                  target,
                  kind == Kind.NO_BASE ? null : held,
                  kind.delta,
                  received);
      if (first == null) {
        first = r;
      } else if (r.wireBytes() != first.wireBytes()) {
        throw new IllegalStateException(
            "bytes differ between rounds: " + first.wireBytes() + " then " + r.wireBytes());
      }
      encCpu = Math.min(encCpu, r.senderCpuNanos());
      appCpu = Math.min(appCpu, r.receiverCpuNanos());
      encWall = Math.min(encWall, r.senderWallNanos());
      appWall = Math.min(appWall, r.receiverWallNanos());
      Files.delete(received);
    }
    Bench.logf(
        "files %s: %,d bytes on the wire; encode %.0f ms, apply %.0f ms (CPU, best of %d)",
        kind.label, first.wireBytes(), encCpu / 1e6, appCpu / 1e6, rounds);
    Path baseFile = held.file();
    long xdelta = kind.delta ? Anchors.xdelta3(baseFile, targetFile, dir) : -1;
    long patch = kind.delta ? Anchors.zstdPatch(baseFile, targetFile, dir) : -1;
    long rsync = kind.delta ? Anchors.rsync(baseFile, targetFile, dir) : -1;
    long zstd3 = kind == Kind.NO_BASE || kind == Kind.SHARED ? Anchors.zstd3(targetFile, dir) : -1;
    return new CaseResult(
        kind, target.length, first, xdelta, patch, zstd3, rsync, encCpu, appCpu, encWall, appWall);
  }

  /** The comparison tools, run as processes; -1 when a tool is missing or fails. */
  static final class Anchors {
    private static boolean xdelta3;
    private static boolean zstd;
    private static boolean rsync;

    /** Finds the tools; names the missing ones. */
    static String prepare(Path dir) {
      xdelta3 = found("xdelta3");
      zstd = found("zstd");
      rsync = found("rsync");
      StringBuilder s = new StringBuilder();
      s.append(xdelta3 ? version("xdelta3", "-V") : "xdelta3 MISSING").append("; ");
      s.append(zstd ? version("zstd", "-V") : "zstd MISSING").append("; ");
      s.append(rsync ? version("rsync", "--version") : "rsync MISSING");
      if (!xdelta3 || !zstd || !rsync) {
        Bench.log(
            "files: some anchors are missing (" + s + "); bench/files.sh installs them with apt");
      }
      return s.toString();
    }

    static long xdelta3(Path base, Path target, Path dir) throws Exception {
      Path out = dir.resolve("anchor.xd3");
      return xdelta3
          ? size(
              out,
              "xdelta3",
              "-e",
              "-9",
              "-f",
              "-s",
              base.toString(),
              target.toString(),
              out.toString())
          : -1;
    }

    /** zstd -3 --patch-from, with the long window zstd needs to reach all of a 64 MiB base. */
    static long zstdPatch(Path base, Path target, Path dir) throws Exception {
      Path out = dir.resolve("anchor.zst");
      long both = Files.size(base) + Files.size(target);
      int windowLog = 64 - Long.numberOfLeadingZeros(both - 1);
      return zstd
          ? size(
              out,
              "zstd",
              "-q",
              "-f",
              "-3",
              "--long=" + Math.max(27, windowLog),
              "--patch-from=" + base,
              target.toString(),
              "-o",
              out.toString())
          : -1;
    }

    static long zstd3(Path target, Path dir) throws Exception {
      Path out = dir.resolve("anchor.zst");
      return zstd
          ? size(out, "zstd", "-q", "-f", "-3", target.toString(), "-o", out.toString())
          : -1;
    }

    /**
     * rsync -z's delta: the batch file of an update of a copy of the base, i.e. the sender's stream
     * only (a real rsync also sends the receiver's block checksums the other way).
     */
    static long rsync(Path base, Path target, Path dir) throws Exception {
      if (!rsync) {
        return -1;
      }
      Path dest = dir.resolve("rsync-dest");
      Files.createDirectories(dest);
      Path copy = dest.resolve(target.getFileName());
      Files.copy(base, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Path batch = dir.resolve("anchor.rsync");
      long n =
          size(
              batch,
              "rsync",
              "-z",
              "--no-whole-file",
              "--only-write-batch=" + batch,
              target.toString(),
              copy.toString());
      Files.deleteIfExists(copy);
      Files.deleteIfExists(dir.resolve("anchor.rsync.sh"));
      return n;
    }

    private static long size(Path out, String... command) throws Exception {
      Files.deleteIfExists(out);
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0 || !Files.exists(out)) {
        p.destroy();
        Bench.log("files: " + String.join(" ", command) + " failed");
        return -1;
      }
      long n = Files.size(out);
      Files.delete(out);
      return n;
    }

    private static boolean found(String tool) {
      try {
        Process p = new ProcessBuilder("which", tool).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
      } catch (IOException | InterruptedException e) {
        return false;
      }
    }

    private static String version(String tool, String flag) {
      try {
        Process p = new ProcessBuilder(tool, flag).redirectErrorStream(true).start();
        String v = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("");
        p.waitFor();
        return v.trim();
      } catch (IOException | InterruptedException e) {
        return tool;
      }
    }
  }
}

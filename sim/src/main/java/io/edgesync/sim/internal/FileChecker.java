package io.edgesync.sim.internal;

import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileState;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * The invariants of file transfers (files seeds).
 *
 * <p>At every step, for every device's installed files and the cloud's stored uploads: a path holds
 * exactly the bytes (SHA-256) of a version published (or uploaded) for it, never a partial or wrong
 * file; never an older version after a newer one; on a device, only a version whose rollout reached
 * it and that it did not refuse; in the cloud, nothing of a refused collection.
 *
 * <p>At the end, for every device and path: the newest version rolled out to it is installed byte
 * for byte, or (a version over the device's size limit) failed with a reason; the cloud heard that
 * final state. For every upload: stored byte for byte (the newest version of each path; older ones
 * stored or superseded), or refused with a reason in the refused collection; the device heard it.
 * No transfer failed for any other reason: an honest run has no corrupt chunks or broken plans.
 */
final class FileChecker implements Checker {
  /** Per "where path": the installed bytes last seen (by reference) and their version. */
  private final Map<String, byte[]> seenBytes = new HashMap<>();

  private final Map<String, Long> seenVersion = new HashMap<>();

  @Override
  public String name() {
    return "files";
  }

  // ---------------------------------------------------------------- safety

  @Override
  public void afterEvent(World world) {
    FileLedger ledger = world.fileLedger();
    for (SimEdge e : world.edges()) {
      if (e.fileInbox() == null) {
        continue;
      }
      long limit = world.fileScenario().deviceMaxFileBytes().get(e.index());
      for (String path : world.fileScenario().paths()) {
        checkInstalled(
            world,
            e.deviceId(),
            e.fileInbox(),
            path,
            v -> ledger.version(path, v),
            v ->
                !v.targets().contains(e.deviceId())
                    ? "its rollout never reached the device"
                    : v.content().length > limit ? "the device refuses its size" : null);
      }
    }
    SimCloudFiles cloud = world.cloud().files();
    for (SimEdge e : world.edges()) {
      for (Map.Entry<String, List<FileLedger.Version>> u :
          ledger.uploadsOf(e.deviceId()).entrySet()) {
        List<FileLedger.Version> versions = u.getValue();
        checkInstalled(
            world,
            "cloud(" + e.deviceId() + ")",
            cloud.uploads(e.deviceId()),
            u.getKey(),
            v -> v >= 1 && v <= versions.size() ? versions.get((int) v - 1) : null,
            v ->
                FileScenario.FORBIDDEN.equals(FileLedger.collection(v))
                    ? "its collection takes no uploads"
                    : null);
      }
    }
  }

  private void checkInstalled(
      World world,
      String where,
      InMemoryFileInbox inbox,
      String path,
      LongFunction<FileLedger.Version> versionOf,
      java.util.function.Function<FileLedger.Version, String> forbidden) {
    byte[] bytes = inbox.installed(path).orElse(null);
    String key = where + " " + path;
    if (bytes == null || bytes == seenBytes.get(key)) {
      return;
    }
    long version = inbox.held(path).map(FileInbox.Held::version).orElse(0L);
    FileLedger.Version v = versionOf.apply(version);
    if (v == null) {
      throw new SimFailure(
          where + " holds " + path + " as version " + version + ", which was never published");
    }
    if (!Arrays.equals(FileContent.sha256(bytes), v.sha256())) {
      throw new SimFailure(
          where
              + " holds "
              + bytes.length
              + " bytes at "
              + path
              + " that are not version "
              + version
              + " ("
              + v.content().length
              + " bytes): a partial or wrong file at the path");
    }
    long before = seenVersion.getOrDefault(key, 0L);
    if (version < before) {
      throw new SimFailure(
          where
              + " installed "
              + v.transferId()
              + " over the newer version "
              + before
              + ": an older version replaced a newer one");
    }
    String why = forbidden.apply(v);
    if (why != null) {
      throw new SimFailure(where + " installed " + v.transferId() + " although " + why);
    }
    seenBytes.put(key, bytes);
    seenVersion.put(key, version);
    world.trace(where + " holds " + v.transferId() + " (" + bytes.length + " bytes, verified)");
    world.stats().add(where.startsWith("cloud") ? "files.stored" : "files.installed", 1);
  }

  // ---------------------------------------------------------------- convergence

  @Override
  public boolean converged(World world) {
    return unsettled(world) == null;
  }

  /** What has not settled yet, or null. */
  private String unsettled(World world) {
    FileLedger ledger = world.fileLedger();
    SimCloudFiles cloud = world.cloud().files();
    for (SimEdge e : world.edges()) {
      if (!e.alive()) {
        return e.deviceId() + " down";
      }
      for (String path : world.fileScenario().paths()) {
        FileLedger.Version v = ledger.newestFor(e.deviceId(), path);
        if (v == null) {
          continue;
        }
        Optional<FileInbox.Inbound> t = e.fileInbox().transfer(v.transferId());
        if (t.isEmpty() || !t.get().isFinal()) {
          return e.deviceId()
              + " "
              + v.transferId()
              + " "
              + t.map(x -> x.state() + " " + x.bytesDone() + "/" + x.offer().getHeader().getSize())
                  .orElse("not begun");
        }
        if (offered(cloud.rollouts(e.deviceId()), path)) {
          return "cloud still offers " + path + " to " + e.deviceId();
        }
      }
      for (List<FileLedger.Version> versions : ledger.uploadsOf(e.deviceId()).values()) {
        for (FileLedger.Version u : versions) {
          Optional<FileInbox.Inbound> t = cloud.uploads(e.deviceId()).transfer(u.transferId());
          if (t.isEmpty() || !t.get().isFinal()) {
            return "upload "
                + u.transferId()
                + " "
                + t.map(x -> x.state() + " " + x.bytesDone() + "/" + u.content().length)
                    .orElse("not begun");
          }
        }
      }
      if (!e.fileOutbox().offers(0, 1).isEmpty()) {
        return e.deviceId() + " still offers " + e.fileOutbox().offers(0, 1).get(0).getTransferId();
      }
    }
    return null;
  }

  private static boolean offered(InMemoryFileOutbox out, String path) {
    return out.offers(0, Integer.MAX_VALUE).stream()
        .anyMatch(o -> o.getHeader().getPath().equals(path));
  }

  @Override
  public long progressMark(World world) {
    long mark = 0;
    FileLedger ledger = world.fileLedger();
    for (SimEdge e : world.edges()) {
      if (e.fileInbox() == null) {
        continue;
      }
      for (String path : world.fileScenario().paths()) {
        for (FileLedger.Version v : ledger.versions(path)) {
          mark = mark * 31 + mark(e.fileInbox().transfer(v.transferId()));
        }
      }
      for (List<FileLedger.Version> versions : ledger.uploadsOf(e.deviceId()).values()) {
        for (FileLedger.Version u : versions) {
          mark =
              mark * 31
                  + mark(world.cloud().files().uploads(e.deviceId()).transfer(u.transferId()));
        }
      }
    }
    return mark;
  }

  private static long mark(Optional<FileInbox.Inbound> t) {
    return t.map(x -> x.bytesDone() * 8 + x.state().getNumber()).orElse(0L);
  }

  @Override
  public String progress(World world) {
    String u = unsettled(world);
    return u == null ? "settled" : u;
  }

  // ---------------------------------------------------------------- final state

  @Override
  public void atEnd(World world) {
    FileLedger ledger = world.fileLedger();
    SimCloudFiles cloud = world.cloud().files();
    for (SimEdge e : world.edges()) {
      long limit = world.fileScenario().deviceMaxFileBytes().get(e.index());
      for (String path : world.fileScenario().paths()) {
        for (FileLedger.Version v : ledger.versions(path)) {
          checkFailureReason(
              world,
              e.deviceId(),
              e.fileInbox().transfer(v.transferId()),
              "superseded",
              "too_large");
        }
        FileLedger.Version v = ledger.newestFor(e.deviceId(), path);
        if (v == null) {
          continue;
        }
        boolean refused = v.content().length > limit;
        checkFinal(
            e.deviceId(),
            e.fileInbox(),
            v,
            refused ? FileState.FILE_STATE_FAILED : FileState.FILE_STATE_INSTALLED,
            "too_large");
        checkHeard("the cloud", cloud.rollouts(e.deviceId()).reports(), v, e.fileInbox());
      }
      for (List<FileLedger.Version> versions : ledger.uploadsOf(e.deviceId()).values()) {
        InMemoryFileInbox in = cloud.uploads(e.deviceId());
        for (FileLedger.Version u : versions) {
          checkFailureReason(
              world, "the cloud", in.transfer(u.transferId()), "superseded", "not_allowed");
          checkHeard(e.deviceId(), e.fileOutbox().reports(), u, in);
        }
        FileLedger.Version newest = versions.get(versions.size() - 1);
        boolean refused = FileScenario.FORBIDDEN.equals(FileLedger.collection(newest));
        checkFinal(
            "the cloud",
            in,
            newest,
            refused ? FileState.FILE_STATE_FAILED : FileState.FILE_STATE_STORED,
            "not_allowed");
      }
    }
  }

  /** The transfer of {@code v} ended in {@code expected}, with the file in place or a reason. */
  private static void checkFinal(
      String where,
      InMemoryFileInbox inbox,
      FileLedger.Version v,
      FileState expected,
      String refusal) {
    FileInbox.Inbound t =
        inbox
            .transfer(v.transferId())
            .orElseThrow(() -> new SimFailure(where + " never began " + v.transferId()));
    if (t.state() != expected) {
      throw new SimFailure(
          where
              + " ended "
              + v.transferId()
              + " "
              + t.state()
              + " '"
              + t.reason()
              + "', expected "
              + expected);
    }
    if (expected == FileState.FILE_STATE_FAILED) {
      if (!t.reason().startsWith(refusal + ":")) {
        throw new SimFailure(where + " refused " + v.transferId() + " for '" + t.reason() + "'");
      }
      return;
    }
    long held = inbox.held(v.path()).map(FileInbox.Held::version).orElse(0L);
    byte[] bytes = inbox.installed(v.path()).orElse(new byte[0]);
    if (held != v.version() || !Arrays.equals(FileContent.sha256(bytes), v.sha256())) {
      throw new SimFailure(
          where
              + " reports "
              + v.transferId()
              + " "
              + expected
              + " but holds version "
              + held
              + " ("
              + bytes.length
              + " bytes) at "
              + v.path());
    }
  }

  /** A failed transfer failed for one of the reasons an honest run has (counted by reason). */
  private static void checkFailureReason(
      World world, String where, Optional<FileInbox.Inbound> t, String... allowed) {
    if (t.isEmpty() || t.get().state() != FileState.FILE_STATE_FAILED) {
      return;
    }
    String reason = t.get().reason();
    for (String a : allowed) {
      if (reason.startsWith(a + ":")) {
        world.stats().add("files.failed." + a, 1);
        return;
      }
    }
    throw new SimFailure(
        where
            + ": "
            + t.get().offer().getTransferId()
            + " failed in an honest run: '"
            + reason
            + "'");
  }

  /** The sender heard the receiver's final state of {@code v}, with its reason. */
  private static void checkHeard(
      String sender, List<FileReport> reports, FileLedger.Version v, InMemoryFileInbox receiver) {
    FileInbox.Inbound t = receiver.transfer(v.transferId()).orElse(null);
    if (t == null) {
      return; // never offered (withdrawn in favour of a newer version)
    }
    for (FileReport r : reports) {
      if (r.getTransferId().equals(v.transferId())
          && r.getState() == t.state()
          && r.getReason().equals(t.reason())) {
        return;
      }
    }
    throw new SimFailure(
        sender
            + " never heard that "
            + v.transferId()
            + " ended "
            + t.state()
            + " '"
            + t.reason()
            + "'");
  }
}

package io.edgesync.sim.internal;

import io.edgesync.engine.files.FileVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the simulated users did with files, beside the real transfer logic: every version the cloud
 * published (its bytes and SHA-256, and the devices its rollout reached so far) and every upload a
 * device's program queued. The {@link FileChecker} holds the stores to it. Not thread safe; owned
 * by the simulation thread.
 */
final class FileLedger {
  /** A version of a path with its bytes; {@code targets} grows as the rollout reaches devices. */
  record Version(
      String device,
      String path,
      long version,
      byte[] content,
      byte[] sha256,
      Set<String> targets) {
    String transferId() {
      return FileVersion.transferId(path, version);
    }
  }

  /** Cloud → edge: path → versions in order. */
  private final Map<String, List<Version>> published = new TreeMap<>();

  /** Edge → cloud: device → path → versions in order (each version's device is the uploader). */
  private final Map<String, Map<String, List<Version>>> uploads = new TreeMap<>();

  private int uploadCounter;

  Version publish(String path, byte[] content) {
    List<Version> versions = published.computeIfAbsent(path, p -> new ArrayList<>());
    Version v =
        new Version(
            null, path, versions.size() + 1, content, FileContent.sha256(content), new TreeSet<>());
    versions.add(v);
    return v;
  }

  List<Version> versions(String path) {
    return published.getOrDefault(path, List.of());
  }

  /** The published version, or null if it never was. */
  Version version(String path, long version) {
    List<Version> vs = versions(path);
    return version >= 1 && version <= vs.size() ? vs.get((int) version - 1) : null;
  }

  /** The newest version of {@code path} whose rollout reached {@code device}, or null. */
  Version newestFor(String device, String path) {
    Version newest = null;
    for (Version v : versions(path)) {
      if (v.targets().contains(device)) {
        newest = v;
      }
    }
    return newest;
  }

  Version upload(String device, String path, String collection, byte[] content) {
    List<Version> versions =
        uploads
            .computeIfAbsent(device, d -> new TreeMap<>())
            .computeIfAbsent(path, p -> new ArrayList<>());
    Version v =
        new Version(
            device,
            path,
            versions.size() + 1,
            content,
            FileContent.sha256(content),
            new TreeSet<>(Set.of(collection)));
    versions.add(v);
    return v;
  }

  /** The collection an upload was queued in (kept in {@code targets}). */
  static String collection(Version upload) {
    return upload.targets().iterator().next();
  }

  /** A device's uploads: path → versions in order. */
  Map<String, List<Version>> uploadsOf(String device) {
    return uploads.getOrDefault(device, Map.of());
  }

  /** A fresh upload path for {@code device}. */
  String nextUploadPath(String device) {
    return "clips/" + device + "/clip-" + (++uploadCounter) + ".bin";
  }
}

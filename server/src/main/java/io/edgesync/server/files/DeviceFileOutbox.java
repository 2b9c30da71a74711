package io.edgesync.server.files;

import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.server.files.FileStore.Offerable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One device's view of the rollouts that reached it, for its sessions: an offer for every version a
 * running rollout admitted it to and it has not reported final (the newest per path), the manifests
 * and chunks of published versions, and its reports into the rollout's rows.
 *
 * <p>Called on the session's thread under its monitor; holds only the last manifest read (a session
 * asks for pages of one manifest in a row), under this object's monitor.
 */
final class DeviceFileOutbox implements FileOutbox {
  private final Supplier<String> deviceOf;
  private final CloudFiles files;
  private String cachedKey; // guarded by this
  private Optional<Manifest> cached; // guarded by this

  DeviceFileOutbox(Supplier<String> device, CloudFiles files) {
    this.deviceOf = device;
    this.files = files;
  }

  @Override
  public List<FileOffer> offers(long nowMs, int max) {
    List<FileOffer> out = new ArrayList<>();
    for (Offerable o : files.store().offerable(device())) {
      if (out.size() >= max) {
        break;
      }
      out.add(
          FileOffer.newBuilder()
              .setTransferId(
                  FileVersion.transferId(
                      o.version().header().getPath(), o.version().header().getVersion()))
              .setHeader(o.version().header())
              .setChunkCount(o.version().chunkCount())
              .setSignature(com.google.protobuf.ByteString.copyFrom(o.version().signature()))
              .setKeyId(o.version().keyId())
              .setRollout(Long.toString(o.rollout()))
              .build());
    }
    return out;
  }

  @Override
  public synchronized Optional<Manifest> manifest(String path, long version) {
    String key = FileVersion.transferId(path, version);
    if (!key.equals(cachedKey)) {
      cached = files.store().manifest(path, version);
      cachedKey = key;
    }
    return cached;
  }

  @Override
  public byte[] chunk(byte[] hash) throws IOException {
    return files.chunks().require(hash);
  }

  @Override
  public void onReport(FileReport report, long nowMs) {
    files.onReport(device(), report, nowMs);
  }

  private String device() {
    return CloudFiles.deviceOf(deviceOf);
  }
}

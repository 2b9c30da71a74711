package io.edgesync.engine.files;

import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The sending side of file transfers: what to offer, and the manifests and chunks of the offered
 * versions. The cloud's is one device's view of the rollouts that reached it; the edge's, its
 * uploads not yet stored in the cloud. {@link FileSending} serves a receiver's requests from it.
 *
 * <p>Called on the engine's thread; may read disk, never waits for the network.
 */
public interface FileOutbox {
  /**
   * The offers to make now, at most {@code max}: versions the receiver should take and has not
   * reported final. The cloud paces a rollout here (a device not yet admitted gets no offer).
   */
  List<FileOffer> offers(long nowMs, int max);

  /** The manifest of an offered (or earlier, for a delta base) version, or empty if gone. */
  Optional<Manifest> manifest(String path, long version);

  /** A chunk's bytes by hash. */
  byte[] chunk(byte[] hash) throws IOException;

  /** The receiver's report on a transfer; final states end the offer. Durable. */
  void onReport(FileReport report, long nowMs);
}

package io.edgesync.engine.edge;

import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileLink;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileReceiving;
import io.edgesync.engine.files.FileSending;
import io.edgesync.engine.link.LinkEstimator;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.Frame;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The device's file transfers in a session: downloads ({@link FileReceiving}) and uploads ({@link
 * FileSending}), and when upload data may go out. Records come first: upload data is sent only when
 * no record batch is waiting for the window, a frame of at most a quarter second of the measured
 * link, and not while the daily budget or a slow link holds back streams of the files' priority
 * ({@link #PRIORITY}). The cloud's requests bound what is on its way (its receive window).
 *
 * <p>Not thread safe: owned by the engine's thread, except {@link FileReceiving#completion}.
 */
final class EdgeFiles {
  /** The priority file transfers have against streams (lower is sent first; streams default 5). */
  static final int PRIORITY = 8;

  /** The capability a device announces in Hello when it takes file offers. */
  static final String CAPABILITY = "files";

  private static final int MIN_FRAME_RAW_BYTES = 16 << 10;
  private static final int MAX_FRAME_RAW_BYTES = 4 << 20;

  private final FileReceiving downloads;
  private final FileSending uploads;
  private final LinkEstimator link;

  EdgeFiles(
      FileInbox inbox, FileOutbox outbox, FileLink session, LinkEstimator link, Runnable wakeup) {
    this.downloads = new FileReceiving(inbox, session, wakeup);
    this.uploads = new FileSending(outbox, session, 3);
    this.link = link;
  }

  private boolean open;

  /** The session accepted files ("files" in Welcome). */
  void onOpen(long nowMs) {
    open = true;
    downloads.onOpen(nowMs);
    uploads.onOpen(nowMs);
  }

  boolean isOpen() {
    return open;
  }

  void onClose() {
    open = false;
    downloads.onClose();
    uploads.onClose();
  }

  /** Handles a file frame; false if it is not one. */
  boolean onFrame(long nowMs, Frame frame) {
    switch (frame.getBodyCase()) {
      case FILE_OFFER -> downloads.onOffer(nowMs, frame.getFileOffer());
      case FILE_DATA ->
          downloads.onData(
              nowMs, frame.getFileData(), frame.getSerializedSize() + FrameCodec.TRAILER_BYTES);
      case FILE_REQUEST -> uploads.onRequest(nowMs, frame.getFileRequest());
      case FILE_REPORT -> uploads.onReport(nowMs, frame.getFileReport());
      default -> {
        return false;
      }
    }
    return true;
  }

  /** Local changes: finished installs, a program's install report, a new upload. */
  void onLocalChange(long nowMs) {
    downloads.onLocalChange(nowMs);
    uploads.offerDue(nowMs);
  }

  /**
   * Sends what the files may send now, within {@code allowance} (bytes the budget leaves them,
   * asked again after every frame since each one spends it): download requests, and upload data
   * while {@code recordsWaiting} is false.
   */
  void pump(long nowMs, LongSupplier allowance, BooleanSupplier recordsWaiting) {
    downloads.drainCompletions(nowMs); // recorded even between sessions; reported when open
    if (!open || (!downloads.hasActive() && !uploads.hasData())) {
      return; // the common case, on every pump of the records: nothing to weigh
    }
    long left = allowance.getAsLong();
    if (left <= 0) {
      return;
    }
    downloads.pump(nowMs, left);
    // A frame goes only when what is left covers at least its first chunk.
    while (uploads.hasData()
        && !recordsWaiting.getAsBoolean()
        && (left = allowance.getAsLong()) >= uploads.nextChunkBytes()) {
      uploads.sendNext(nowMs, (int) Math.min(frameRawBytes(nowMs), left));
    }
  }

  /** A quarter second of the measured link, within bounds. */
  private int frameRawBytes(long nowMs) {
    long kbps = link.bandwidthKbps(nowMs);
    if (kbps <= 0) {
      return 256 << 10;
    }
    long quarterSecond = kbps * 1000 / 8 / 4;
    return (int) Math.max(MIN_FRAME_RAW_BYTES, Math.min(MAX_FRAME_RAW_BYTES, quarterSecond));
  }
}

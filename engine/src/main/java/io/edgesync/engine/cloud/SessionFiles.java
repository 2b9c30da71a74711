package io.edgesync.engine.cloud;

import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileLimits;
import io.edgesync.engine.files.FileLink;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileReceiving;
import io.edgesync.engine.files.FileSending;
import io.edgesync.protocol.wire.Frame;

/**
 * One device's file transfers in its session: the versions rolled out to it ({@link FileSending})
 * and its uploads ({@link FileReceiving}). The cloud sends what the device asks for at once: the
 * device's requests are its receive window, and they bound what is on its way.
 *
 * <p>Not thread safe: used under the session's monitor, except the wakeup of finished uploads.
 */
final class SessionFiles {
  /** The capability a session accepts in Welcome when the device and the server both have files. */
  static final String CAPABILITY = "files";

  private final FileReceiving uploads;
  private final FileSending downloads;
  private boolean open;

  SessionFiles(FileOutbox outbox, FileInbox inbox, FileLink link, Runnable wakeup, int zstdLevel) {
    this.downloads = new FileSending(outbox, link, zstdLevel);
    this.uploads = new FileReceiving(inbox, link, wakeup);
  }

  void onOpen(long nowMs) {
    open = true;
    uploads.onOpen(nowMs);
    downloads.onOpen(nowMs);
  }

  boolean isOpen() {
    return open;
  }

  void onClose() {
    open = false;
    uploads.onClose();
    downloads.onClose();
  }

  void onFrame(long nowMs, Frame frame, int frameBytes) {
    switch (frame.getBodyCase()) {
      case FILE_OFFER -> uploads.onOffer(nowMs, frame.getFileOffer());
      case FILE_DATA -> uploads.onData(nowMs, frame.getFileData(), frameBytes);
      case FILE_REQUEST -> downloads.onRequest(nowMs, frame.getFileRequest());
      case FILE_REPORT -> downloads.onReport(nowMs, frame.getFileReport());
      default -> throw new IllegalArgumentException("not a file frame: " + frame.getBodyCase());
    }
    flush(nowMs);
  }

  /** Offers what became due (a rollout admitted this device). */
  void offerDue(long nowMs) {
    downloads.offerDue(nowMs);
    flush(nowMs);
  }

  /** Finished upload assemblies: record and report them. */
  void drainCompletions(long nowMs) {
    uploads.drainCompletions(nowMs);
    flush(nowMs);
  }

  private void flush(long nowMs) {
    while (downloads.hasData()) {
      downloads.sendNext(nowMs, FileLimits.MAX_PACK_RAW_BYTES);
    }
  }
}

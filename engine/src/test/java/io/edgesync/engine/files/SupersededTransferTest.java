package io.edgesync.engine.files;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.protocol.wire.Frame;
import java.util.ArrayDeque;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A newer version offered while an older one of the same path is still on its way (found by the
 * simulator's files seeds, {@code --files}): the older transfer's end is reported at once, and the
 * bytes asked for it stop counting against the receive window.
 */
class SupersededTransferTest {
  private static final String PATH = "firmware/gateway.img";

  private final InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);

  /** Assembly steps (install, then report) waiting, when {@link #deferAssembly} is set. */
  private final ArrayDeque<Runnable> assembly = new ArrayDeque<>();

  private boolean deferAssembly;
  private final InMemoryFileInbox inbox =
      new InMemoryFileInbox(o -> Optional.empty(), FileState.FILE_STATE_INSTALLED)
          .assembleWith(
              (install, report) -> {
                if (deferAssembly) {
                  assembly.add(install);
                  assembly.add(report);
                } else {
                  install.run();
                  report.run();
                }
              });
  private final ArrayDeque<Frame> toReceiver = new ArrayDeque<>();
  private final ArrayDeque<Frame> toSender = new ArrayDeque<>();
  private final FileSending sender = new FileSending(outbox, link(toReceiver), 3);
  private final FileReceiving receiver = new FileReceiving(inbox, link(toSender), () -> {});
  private long now;

  private static FileLink link(ArrayDeque<Frame> q) {
    return new FileLink() {
      @Override
      public void send(Frame frame) {
        q.add(frame);
      }

      @Override
      public int maxFrameBytes() {
        return 4 << 20;
      }
    };
  }

  /** Delivers one frame to the receiver (the time moves {@code stepMs} first). */
  private void toReceiver(long stepMs) {
    now += stepMs;
    Frame f = toReceiver.poll();
    switch (f.getBodyCase()) {
      case FILE_OFFER -> receiver.onOffer(now, f.getFileOffer());
      case FILE_DATA -> receiver.onData(now, f.getFileData(), FrameCodec.encode(f).length);
      default -> throw new AssertionError(f);
    }
    receiver.drainCompletions(now);
  }

  /** Delivers one frame to the sender, and the data it then has. */
  private void toSender() {
    Frame f = toSender.poll();
    switch (f.getBodyCase()) {
      case FILE_REQUEST -> sender.onRequest(now, f.getFileRequest());
      case FILE_REPORT -> sender.onReport(now, f.getFileReport());
      default -> throw new AssertionError(f);
    }
    while (sender.hasData()) {
      sender.sendNext(now, 4 << 20);
    }
  }

  /** Delivers frames both ways until none is left, {@code stepMs} apart towards the receiver. */
  private void runUntilQuiet(long stepMs) {
    while (!toSender.isEmpty() || !toReceiver.isEmpty()) {
      if (!toSender.isEmpty()) {
        toSender();
      } else {
        toReceiver(stepMs);
      }
    }
  }

  private void open() {
    receiver.onOpen(now);
    sender.onOpen(now);
  }

  @Test
  void newerVersionOffered_theSupersededTransferIsReportedAtOnce_notInTheNextSession() {
    outbox.add(PATH, 1, FileTransferTest.content(11, 60_000), "");
    open();
    toReceiver(10); // offer v1: the receiver asks for its manifest
    assertThat(toSender).hasSize(1);
    toSender.clear();

    outbox.add(PATH, 2, FileTransferTest.content(12, 60_000), "");
    sender.offerDue(now);
    toReceiver(10); // offer v2 supersedes v1

    assertThat(toSender)
        .anySatisfy(
            f -> {
              assertThat(f.getFileReport().getTransferId()).isEqualTo(PATH + "@1");
              assertThat(f.getFileReport().getState()).isEqualTo(FileState.FILE_STATE_FAILED);
              assertThat(f.getFileReport().getReason()).startsWith("superseded:");
            });
  }

  @Test
  void
      supersededWhileItsChunksWereOnTheirWay_theWindowIsReleased_theNewerVersionCompletesOnASlowLink() {
    outbox.add(PATH, 1, FileTransferTest.content(21, 60_000), "");
    open();
    toReceiver(10); // offer v1
    toSender(); // manifest request
    toReceiver(10); // manifest: the receiver asks for every chunk of v1
    assertThat(toSender.peek().getFileRequest().hasChunks()).isTrue();
    toSender.clear(); // v1's chunks never arrive (in the simulator they came after v2's offer)

    outbox.add(PATH, 2, FileTransferTest.content(22, 60_000), "");
    sender.offerDue(now);
    toReceiver(10); // offer v2: v1 superseded, the bytes asked for it still in the window
    while (!toSender.isEmpty() || !toReceiver.isEmpty()) {
      if (!toSender.isEmpty()) {
        toSender();
      } else {
        toReceiver(2_000); // a slow link: the window shrinks to its minimum
      }
    }
    assertThat(inbox.held(PATH))
        .as("version 2 is installed (without the fix the leaked window stopped every request)")
        .hasValueSatisfying(h -> assertThat(h.version()).isEqualTo(2));
  }

  @Test
  void supersededWithItsChunksAskedFor_theSenderDropsThem_theNewerVersionIsStillAsked() {
    outbox.add(PATH, 1, FileTransferTest.content(31, 190_000), "");
    open();
    toReceiver(10); // offer v1
    toSender(); // manifest request
    toReceiver(10); // manifest: the receiver asks for all of v1, more than half its window
    sender.onRequest(now, toSender.poll().getFileRequest()); // queued, not sent yet

    outbox.add(PATH, 2, FileTransferTest.content(32, 190_000), "");
    sender.offerDue(now);
    toReceiver(10); // offer v2: v1 superseded and reported; the sender drops v1's chunks
    runUntilQuiet(10);

    assertThat(inbox.held(PATH))
        .as("version 2 is installed (without the fix v1's bytes kept the window full)")
        .hasValueSatisfying(h -> assertThat(h.version()).isEqualTo(2));
  }

  @Test
  void versionSupersededWhileItsInstallWaited_isNotInstalled_theNewerDeltaKeepsItsBase() {
    byte[] v1 = FileTransferTest.content(41, 300_000);
    byte[] v2 = v1.clone();
    v2[150_000] ^= 1;
    byte[] v3 = v2.clone();
    v3[50_000] ^= 1;
    outbox.keep(PATH, 1, v1);
    inbox.hold(PATH, 1, v1, outbox.manifest(PATH, 1).orElseThrow());
    outbox.add(PATH, 2, v2, "");
    deferAssembly = true;
    open();
    runUntilQuiet(10); // v2 arrives whole; its install waits on the installer thread
    assertThat(assembly).isNotEmpty();

    outbox.add(PATH, 3, v3, "");
    sender.offerDue(now);
    toReceiver(10); // offer v3 supersedes v2 and asks for a delta from v1, the version held
    assertThat(toSender)
        .anySatisfy(f -> assertThat(f.getFileRequest().getDeltaBaseVersion()).isEqualTo(1));
    while (!assembly.isEmpty()) {
      assembly.poll().run(); // v2's install runs now, after it was superseded
    }
    receiver.drainCompletions(now);
    deferAssembly = false;
    runUntilQuiet(10);

    assertThat(outbox.reports())
        .as("v3 did not fail (without the fix: 'a delta plan against version 1, not held')")
        .noneSatisfy(
            r -> {
              assertThat(r.getTransferId()).isEqualTo(PATH + "@3");
              assertThat(r.getState()).isEqualTo(FileState.FILE_STATE_FAILED);
            });
    assertThat(inbox.held(PATH)).hasValueSatisfying(h -> assertThat(h.version()).isEqualTo(3));
    assertThat(inbox.installed(PATH)).hasValueSatisfying(b -> assertThat(b).isEqualTo(v3));
  }
}

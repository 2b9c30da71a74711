package io.edgesync.server.files;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileLink;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileReceiving;
import io.edgesync.engine.files.FileSending;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.StoreFile;
import io.edgesync.server.StoreKind;
import io.edgesync.server.files.FileStore.Rollout;
import io.edgesync.server.files.FileStore.TargetKind;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cloud's {@link FileOutbox} and {@link FileInbox} driven by the engine's own transfer logic
 * ({@link FileSending}, {@link FileReceiving}) through encoded frames, against a real SQLite store
 * and chunk directory: a rollout's version reaches a device that checks the server's signature, and
 * a device's upload is stored; the rollout row and the upload row end as the device reported.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class CloudFilesTransferTest {
  private static final long T0 = 1_700_000_000_000L;

  @RegisterExtension final StoreFile db;
  private Path dir;
  private SqliteCloudStore store;
  private CloudFiles files;
  private PublicKey releasePub;
  private final AtomicLong now = new AtomicLong(T0);

  CloudFilesTransferTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  @BeforeEach
  void open() throws Exception {
    dir = db.dir();
    store = db.open();
    files = db.openFiles(store, now::get);
    releasePub = db.releaseKey();
  }

  @AfterEach
  void close() {
    files.close();
    store.close();
  }

  /** A sender and a receiver joined by queues of encoded frames. */
  private final class Link {
    final ArrayDeque<Frame> toReceiver = new ArrayDeque<>();
    final ArrayDeque<Frame> toSender = new ArrayDeque<>();
    final FileSending sender;
    final FileReceiving receiver;

    Link(FileOutbox outbox, FileInbox inbox) {
      sender = new FileSending(outbox, queue(toReceiver), 3);
      receiver = new FileReceiving(inbox, queue(toSender), () -> {});
    }

    void open() {
      receiver.onOpen(now.get());
      sender.onOpen(now.get());
    }

    private FileLink queue(ArrayDeque<Frame> q) {
      return new FileLink() {
        @Override
        public void send(Frame frame) {
          try {
            q.add(Frame.parseFrom(FrameCodec.encode(frame))); // as on the wire
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
          }
        }

        @Override
        public int maxFrameBytes() {
          return 4 << 20;
        }
      };
    }

    /** Delivers frames (and completions that finish on other threads) until {@code done}. */
    void runUntil(BooleanSupplier done) throws Exception {
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (!done.getAsBoolean()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("transfer did not finish");
        }
        now.addAndGet(10);
        receiver.drainCompletions(now.get());
        if (!toReceiver.isEmpty()) {
          Frame f = toReceiver.poll();
          switch (f.getBodyCase()) {
            case FILE_OFFER -> receiver.onOffer(now.get(), f.getFileOffer());
            case FILE_DATA ->
                receiver.onData(now.get(), f.getFileData(), FrameCodec.encode(f).length);
            default -> throw new AssertionError(f);
          }
        } else if (!toSender.isEmpty()) {
          Frame f = toSender.poll();
          switch (f.getBodyCase()) {
            case FILE_REQUEST -> sender.onRequest(now.get(), f.getFileRequest());
            case FILE_REPORT -> sender.onReport(now.get(), f.getFileReport());
            default -> throw new AssertionError(f);
          }
        } else if (sender.hasData()) {
          sender.sendNext(now.get(), 4 << 20);
        } else {
          Thread.sleep(5); // an assembly on another thread
        }
      }
    }
  }

  private static byte[] data(int bytes, long seed) {
    byte[] d = new byte[bytes];
    new Random(seed).nextBytes(d);
    return d;
  }

  /** The device's check: the offer's signature verifies with the release key it trusts. */
  private Optional<String> deviceCheck(FileOffer o) {
    boolean ok =
        ReleaseKey.verify(
            releasePub, FileVersion.signingInput(o.getHeader()), o.getSignature().toByteArray());
    return ok ? Optional.empty() : Optional.of("bad_signature: does not verify");
  }

  @Test
  void rolloutVersion_reachesTheDevice_byteIdentical_andItsRowEndsInstalled() throws Exception {
    byte[] image = data(3 << 20, 11);
    long v =
        files
            .publish(
                new CloudFiles.PublishRequest(
                    "firmware/gw.img", Map.of("build", "7"), null, null, null, "ops"),
                new ByteArrayInputStream(image),
                now.get())
            .header()
            .getVersion();
    Rollout r =
        files.createRollout(
            new CloudFiles.RolloutRequest(
                "firmware/gw.img", v, TargetKind.DEVICE, "gw-1", 10, 0.2, 5),
            "ops",
            now.get());
    InMemoryFileInbox device =
        new InMemoryFileInbox(this::deviceCheck, FileState.FILE_STATE_INSTALLED);
    Link link = new Link(files.outbox("gw-1"), device);
    link.open();
    link.runUntil(
        () -> store.files().devices(r.id()).get(0).state() == DeviceRolloutState.INSTALLED);

    assertThat(device.installed("firmware/gw.img")).hasValue(image);
    FileStore.RolloutDevice row = store.files().devices(r.id()).get(0);
    assertThat(row.bytesDone()).isEqualTo(image.length);
    assertThat(row.bytesReceived()).isPositive();
    assertThat(files.outbox("gw-1").offers(now.get(), 10))
        .as("a final state ends the offer")
        .isEmpty();
  }

  @Test
  void deviceUpload_isStored_andServedByteIdentical() throws Exception {
    byte[] clip = data(2 << 20, 12);
    InMemoryFileOutbox device = new InMemoryFileOutbox(o -> o);
    device.add("clips/door.mp4", 1, clip, "uploads");
    FileInbox cloud = files.inbox("cam-1");
    Link link = new Link(device, cloud);
    link.open();
    link.runUntil(
        () ->
            device.reports().stream()
                .anyMatch(rep -> rep.getState() == FileState.FILE_STATE_STORED));

    assertThat(cloud.transfer("clips/door.mp4@1").orElseThrow().state())
        .isEqualTo(FileState.FILE_STATE_STORED);
    try (var in = files.openUpload("cam-1", "clips/door.mp4", 1)) {
      assertThat(in.readAllBytes()).isEqualTo(clip);
    }
  }
}

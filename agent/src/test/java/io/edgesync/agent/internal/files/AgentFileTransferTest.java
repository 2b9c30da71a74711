package io.edgesync.agent.internal.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileLink;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileReceiving;
import io.edgesync.engine.files.FileSending;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.ReleaseKey;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's stores under the engine's real transfer logic ({@link FileReceiving}, {@link
 * FileSending}), the two ends joined by in-memory frame queues: the cloud's side is the engine's
 * in-memory outbox (signing with a real release key) or inbox. Downloads land as installed files on
 * disk; uploads leave the agent's chunk store.
 */
class AgentFileTransferTest {
  private static final String PATH = "firmware/gateway.img";

  @TempDir Path dir;

  private SignedFiles keys;
  private FilesDb db;
  private FileInstaller installer;
  private SqliteFileInbox inbox;

  @BeforeEach
  void open() throws Exception {
    keys = new SignedFiles(dir);
    openStore();
  }

  /** Opens the device's store on its files (again, as after a restart). */
  private void openStore() throws Exception {
    db = new FilesDb(dir.resolve("data/edgesync-files.db"), dir.resolve("data/chunks"));
    installer = new FileInstaller(db, dir.resolve("files"), true, Clock.SYSTEM, (p, v) -> {});
    inbox =
        new SqliteFileInbox(
            db, new OfferCheck(OfferCheck.readKeys(keys.publicKeyFile), 1L << 30), installer);
  }

  @AfterEach
  void close() {
    installer.close();
    db.close();
  }

  private FileOffer sign(FileOffer o) {
    byte[] sig = ReleaseKey.sign(keys.key.getPrivate(), FileVersion.signingInput(o.getHeader()));
    return o.toBuilder().setSignature(ByteString.copyFrom(sig)).setKeyId(keys.keyId()).build();
  }

  @Test
  void download_cutAndRestartedMidway_resumesAndInstallsTheSignedFile() throws Exception {
    byte[] v1 = SignedFiles.content(1, 6 << 20);
    InMemoryFileOutbox cloud = new InMemoryFileOutbox(this::sign);
    cloud.add(PATH, 1, v1, "");

    Session s = new Session(cloud, inbox);
    s.run(3, () -> true); // three data frames, then the agent is killed
    long doneBeforeCrash = inbox.transfer(PATH + "@1").orElseThrow().bytesDone();
    assertThat(doneBeforeCrash).isPositive().isLessThan(v1.length);
    installer.close(); // left open: as after kill -9, the database is not closed cleanly
    openStore();

    Session again = new Session(cloud, inbox);
    long before = again.bytesToReceiver;
    again.run(Integer.MAX_VALUE, () -> reported(cloud, PATH + "@1"));

    assertThat(Files.readAllBytes(dir.resolve("files").resolve(PATH))).isEqualTo(v1);
    assertThat(finalState(cloud, PATH + "@1")).isEqualTo(FileState.FILE_STATE_INSTALLED);
    // Resumed: what crossed after the restart is about what was missing, not the whole file.
    assertThat(again.bytesToReceiver - before).isLessThan(v1.length - doneBeforeCrash + (1 << 20));
  }

  @Test
  void secondVersion_crossesAsTheChangedChunks_andTheFirstIsKept() throws Exception {
    byte[] v1 = SignedFiles.content(2, 4 << 20);
    byte[] v2 = v1.clone();
    v2[1_000_000] ^= 0x21;
    v2[3_000_000] ^= 0x42;
    InMemoryFileOutbox cloud = new InMemoryFileOutbox(this::sign);
    cloud.add(PATH, 1, v1, "");
    new Session(cloud, inbox).run(Integer.MAX_VALUE, () -> reported(cloud, PATH + "@1"));

    cloud.add(PATH, 2, v2, "");
    Session s = new Session(cloud, inbox);
    s.run(Integer.MAX_VALUE, () -> reported(cloud, PATH + "@2"));

    assertThat(Files.readAllBytes(dir.resolve("files").resolve(PATH))).isEqualTo(v2);
    assertThat(Files.readAllBytes(installer.previousOf(PATH, 1))).isEqualTo(v1);
    assertThat(s.bytesToReceiver).isLessThan(5 * 256 * 1024);
  }

  @Test
  void unsignedVersion_isRefusedWithItsReason_andNothingIsInstalled() throws Exception {
    InMemoryFileOutbox cloud = new InMemoryFileOutbox(o -> o);
    cloud.add(PATH, 1, SignedFiles.content(3, 100_000), "");

    new Session(cloud, inbox).run(Integer.MAX_VALUE, () -> reported(cloud, PATH + "@1"));

    assertThat(finalState(cloud, PATH + "@1")).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(cloud.reports().get(cloud.reports().size() - 1).getReason())
        .startsWith("unsigned: ");
    assertThat(dir.resolve("files").resolve(PATH)).doesNotExist();
    assertThat(inbox.held(PATH)).isEmpty();
  }

  @Test
  void upload_reachesTheCloudWhole_andIsThenStoredAndReleased() throws Exception {
    byte[] log = SignedFiles.content(4, 3 << 20);
    SqliteFileOutbox uploads = new SqliteFileOutbox(db, Map.of("logs", 5), 1L << 30);
    uploads.put("logs", "boot.log", new ByteArrayInputStream(log), 1);
    InMemoryFileInbox cloud =
        new InMemoryFileInbox(o -> Optional.empty(), FileState.FILE_STATE_STORED);

    new Session(uploads, cloud).run(Integer.MAX_VALUE, () -> true);

    assertThat(cloud.installed("logs/boot.log"))
        .hasValueSatisfying(b -> assertThat(b).isEqualTo(log));
    SqliteFileOutbox.Upload u = uploads.upload("logs/boot.log", 1).orElseThrow();
    assertThat(u.state()).isEqualTo(FileState.FILE_STATE_STORED_VALUE);
    assertThat(uploads.offers(10, 10)).isEmpty();
    assertThat(uploads.manifest("logs/boot.log", 1)).isEmpty(); // its chunks were released
  }

  // ---------------------------------------------------------------- helpers

  /** The cloud was told a final state of the transfer. */
  private static boolean reported(InMemoryFileOutbox cloud, String id) {
    return cloud.reports().stream()
        .anyMatch(
            r -> r.getTransferId().equals(id) && r.getState() != FileState.FILE_STATE_DOWNLOADING);
  }

  private static FileState finalState(InMemoryFileOutbox cloud, String id) {
    return cloud.reports().stream()
        .filter(r -> r.getTransferId().equals(id))
        .filter(r -> r.getState() != FileState.FILE_STATE_DOWNLOADING)
        .reduce((a, b) -> b)
        .orElseThrow()
        .getState();
  }

  /** One session between a sender and a receiver; frames queue until {@link #run} delivers them. */
  private static final class Session {
    final ArrayDeque<Frame> toReceiver = new ArrayDeque<>();
    final ArrayDeque<Frame> toSender = new ArrayDeque<>();
    final FileSending sender;
    final FileReceiving receiver;
    long now = 1_000;
    long bytesToReceiver;

    Session(FileOutbox outbox, FileInbox inbox) {
      sender = new FileSending(outbox, link(toReceiver), 3);
      receiver = new FileReceiving(inbox, link(toSender), () -> {});
      receiver.onOpen(now);
      sender.onOpen(now);
    }

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

    /**
     * Delivers frames until quiet and {@code done} holds (an install runs on its own thread), or
     * until {@code maxDataFrames} data frames arrived; fails after 60 s.
     */
    void run(int maxDataFrames, BooleanSupplier done) throws InterruptedException {
      int data = 0;
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (System.nanoTime() < deadline) {
        now += 10;
        receiver.drainCompletions(now);
        if (!toReceiver.isEmpty()) {
          Frame f = toReceiver.poll();
          int size = FrameCodec.encode(f).length;
          bytesToReceiver += size;
          switch (f.getBodyCase()) {
            case FILE_OFFER -> receiver.onOffer(now, f.getFileOffer());
            case FILE_DATA -> {
              receiver.onData(now, f.getFileData(), size);
              if (++data >= maxDataFrames) {
                return;
              }
            }
            default -> throw new AssertionError(f);
          }
        } else if (!toSender.isEmpty()) {
          Frame f = toSender.poll();
          switch (f.getBodyCase()) {
            case FILE_REQUEST -> sender.onRequest(now, f.getFileRequest());
            case FILE_REPORT -> sender.onReport(now, f.getFileReport());
            default -> throw new AssertionError(f);
          }
        } else if (sender.hasData()) {
          sender.sendNext(now, 4 << 20);
        } else if (done.getAsBoolean()) {
          return;
        } else {
          Thread.sleep(5); // an install runs on the installer's thread
        }
      }
      throw new AssertionError("the session did not finish in 60 s");
    }
  }
}

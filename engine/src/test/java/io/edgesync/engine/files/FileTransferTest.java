package io.edgesync.engine.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.protocol.wire.Frame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A sender and a receiver joined by in-memory queues: whole transfers, deltas, resumes, refusals.
 */
class FileTransferTest {
  private static final String PATH = "firmware/gateway.img";

  /** Two ends of a session; frames queue until {@link #run} delivers them. */
  private static final class Pair {
    final InMemoryFileOutbox outbox;
    final InMemoryFileInbox inbox;
    final ArrayDeque<Frame> toReceiver = new ArrayDeque<>();
    final ArrayDeque<Frame> toSender = new ArrayDeque<>();
    FileSending sender;
    FileReceiving receiver;
    long now;
    long bytesToReceiver;
    long bytesToSender;
    int dataFrames;

    Pair(InMemoryFileOutbox outbox, InMemoryFileInbox inbox) {
      this.outbox = outbox;
      this.inbox = inbox;
    }

    void open() {
      toReceiver.clear();
      toSender.clear();
      sender = new FileSending(outbox, link(toReceiver), 3);
      receiver = new FileReceiving(inbox, link(toSender), () -> {});
      receiver.onOpen(now);
      sender.onOpen(now);
    }

    void close() {
      sender.onClose();
      receiver.onClose();
      toReceiver.clear();
      toSender.clear();
    }

    private FileLink link(ArrayDeque<Frame> q) {
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

    /** Delivers frames until quiet, or until {@code maxDataFrames} FileData frames arrived. */
    void run(int maxDataFrames) {
      int data = 0;
      while (true) {
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
              dataFrames++;
              if (++data >= maxDataFrames) {
                return;
              }
            }
            default -> throw new AssertionError(f);
          }
        } else if (!toSender.isEmpty()) {
          Frame f = toSender.poll();
          bytesToSender += FrameCodec.encode(f).length;
          switch (f.getBodyCase()) {
            case FILE_REQUEST -> sender.onRequest(now, f.getFileRequest());
            case FILE_REPORT -> sender.onReport(now, f.getFileReport());
            default -> throw new AssertionError(f);
          }
        } else if (sender.hasData()) {
          sender.sendNext(now, 4 << 20);
        } else {
          return;
        }
      }
    }

    Optional<FileReport> finalReport(String id) {
      return outbox.reports().stream()
          .filter(r -> r.getTransferId().equals(id))
          .filter(r -> r.getState() != FileState.FILE_STATE_DOWNLOADING)
          .reduce((a, b) -> b);
    }
  }

  private static InMemoryFileInbox device() {
    return new InMemoryFileInbox(o -> Optional.empty(), FileState.FILE_STATE_INSTALLED);
  }

  /** Half text lines, half random bytes, in runs, like a firmware image with logs and blobs. */
  static byte[] content(long seed, int bytes) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] out = new byte[bytes];
    int at = 0;
    while (at < bytes) {
      int run = Math.min(bytes - at, 4096 + r.nextInt(60_000));
      if (r.nextBoolean()) {
        for (int i = 0; i < run; i++) {
          out[at + i] = (byte) r.nextInt(256);
        }
      } else {
        byte[] line =
            ("2026-12-06T10:00:00Z INFO sensor "
                    + r.nextInt(100)
                    + " value="
                    + r.nextInt(1000)
                    + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < run; i++) {
          out[at + i] = line[i % line.length];
        }
      }
      at += run;
    }
    return out;
  }

  @Test
  void wholeFile_noBase_arrivesByteForByte() {
    byte[] v1 = content(1, 5 << 20);
    InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);
    outbox.add(PATH, 1, v1, "");
    Pair p = new Pair(outbox, device());
    p.open();
    p.run(Integer.MAX_VALUE);

    assertThat(p.inbox.installed(PATH)).hasValueSatisfying(b -> assertThat(b).isEqualTo(v1));
    assertThat(p.finalReport(PATH + "@1").orElseThrow().getState())
        .isEqualTo(FileState.FILE_STATE_INSTALLED);
    assertThat(p.inbox.chunkBytesWritten()).isEqualTo(v1.length);
    // Read once for the session, not once per request and frame (a store builds it from rows).
    assertThat(outbox.manifestReads()).isEqualTo(1);
  }

  @Test
  void heldEarlierVersion_onlyTheChangedChunksCross() {
    byte[] v1 = content(2, 8 << 20);
    byte[] v2 = v1.clone();
    for (int i = 0; i < 10; i++) {
      v2[i * 800_000 + 12345] ^= 0x11; // ten small edits
    }
    InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);
    outbox.keep(PATH, 1, v1);
    outbox.add(PATH, 2, v2, "");
    InMemoryFileInbox inbox = device();
    inbox.hold(PATH, 1, v1, outbox.manifest(PATH, 1).orElseThrow());
    Pair p = new Pair(outbox, inbox);
    p.open();
    p.run(Integer.MAX_VALUE);

    assertThat(inbox.installed(PATH)).hasValueSatisfying(b -> assertThat(b).isEqualTo(v2));
    // ten chunks of ~64 KiB at most, however they compress; the file is 8 MiB
    assertThat(p.bytesToReceiver).isLessThan(12 * 256 * 1024);
    assertThat(inbox.chunkBytesWritten()).isLessThan(12 * 256 * 1024);
  }

  @Test
  void cutLink_resumesWithoutFetchingHeldChunksAgain() {
    byte[] v1 = content(3, 12 << 20);
    InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);
    outbox.add(PATH, 1, v1, "");
    Pair p = new Pair(outbox, device());
    p.open();
    p.run(3); // three data frames, then the link is cut
    p.close();
    long heldAfterCut = p.inbox.chunkBytesWritten();
    assertThat(heldAfterCut).isGreaterThan(0).isLessThan(v1.length);

    p.open();
    p.run(Integer.MAX_VALUE);

    assertThat(p.inbox.installed(PATH)).hasValueSatisfying(b -> assertThat(b).isEqualTo(v1));
    assertThat(p.inbox.chunkBytesWritten()).isEqualTo(v1.length); // nothing written twice
  }

  /** Regression: the first progress check overflowed (now - Long.MIN_VALUE), so none was sent. */
  @Test
  void longDownload_reportsItsProgressWhileChunksArrive() {
    byte[] v1 = content(9, 12 << 20);
    InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);
    outbox.add(PATH, 1, v1, "");
    Pair p = new Pair(outbox, device());
    p.open();
    for (int i = 0; i < 1_000 && p.inbox.installed(PATH).isEmpty(); i++) {
      p.run(1); // one data frame a second
      p.now += 1_000;
    }
    p.run(Integer.MAX_VALUE);

    assertThat(p.inbox.installed(PATH)).isPresent();
    assertThat(outbox.reports())
        .filteredOn(r -> r.getState() == FileState.FILE_STATE_DOWNLOADING)
        .filteredOn(r -> r.getBytesDone() > 0 && r.getBytesDone() < v1.length)
        .hasSizeGreaterThan(3)
        .allMatch(r -> r.getBytesReceived() > 0);
  }

  @Test
  void corruptChunkAtTheSender_failsTheTransfer_nothingInstalled() {
    byte[] v1 = content(4, 2 << 20);
    InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);
    Manifest m = outbox.add(PATH, 1, v1, "");
    outbox.corruptChunk(m.hash(m.chunkCount() / 2));
    Pair p = new Pair(outbox, device());
    p.open();
    p.run(Integer.MAX_VALUE);

    FileReport report = p.finalReport(PATH + "@1").orElseThrow();
    assertThat(report.getState()).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(report.getReason()).startsWith("corrupt_chunk: chunk " + m.chunkCount() / 2);
    assertThat(p.inbox.installed(PATH)).isEmpty();
  }

  @Test
  void refusedOffer_isReportedWithItsReason_andNothingIsAskedFor() {
    InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);
    outbox.add(PATH, 1, content(5, 1 << 20), "");
    InMemoryFileInbox inbox =
        new InMemoryFileInbox(
            o -> Optional.of("unsigned: the offer has no signature"),
            FileState.FILE_STATE_INSTALLED);
    Pair p = new Pair(outbox, inbox);
    p.open();
    p.run(Integer.MAX_VALUE);

    FileReport report = p.finalReport(PATH + "@1").orElseThrow();
    assertThat(report.getReason()).isEqualTo("unsigned: the offer has no signature");
    assertThat(p.dataFrames).isZero();
    assertThat(inbox.installed(PATH)).isEmpty();
  }

  @Test
  void offerWithAWrongFileHash_failsAtAssembly_nothingInstalled() {
    byte[] v1 = content(6, 1 << 20);
    InMemoryFileOutbox outbox =
        new InMemoryFileOutbox(
            o ->
                o.toBuilder()
                    .setHeader(
                        o.getHeader().toBuilder().setSha256(ByteString.copyFrom(new byte[32])))
                    .build());
    outbox.add(PATH, 1, v1, "");
    Pair p = new Pair(outbox, device());
    p.open();
    p.run(Integer.MAX_VALUE);

    FileReport report = p.finalReport(PATH + "@1").orElseThrow();
    assertThat(report.getState()).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(report.getReason()).startsWith("hash_mismatch");
    assertThat(p.inbox.installed(PATH)).isEmpty();
  }

  @Test
  void requestForAVersionNotOffered_isRefused() {
    InMemoryFileOutbox outbox = new InMemoryFileOutbox(o -> o);
    outbox.keep(PATH, 1, content(7, 1 << 16));
    ArrayDeque<Frame> sent = new ArrayDeque<>();
    FileSending sender =
        new FileSending(
            outbox,
            new FileLink() {
              @Override
              public void send(Frame frame) {
                sent.add(frame);
              }

              @Override
              public int maxFrameBytes() {
                return 1 << 20;
              }
            },
            3);
    sender.onOpen(0);
    sender.onRequest(
        0,
        io.edgesync.protocol.wire.FileRequest.newBuilder()
            .setTransferId(PATH + "@1")
            .setManifest(io.edgesync.protocol.wire.ChunkRange.newBuilder().setCount(1))
            .build());

    assertThat(sent).hasSize(1);
    assertThat(sent.peek().getFileData().getRefusal()).startsWith("not_offered: ");
  }
}

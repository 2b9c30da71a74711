package io.edgesync.agent.internal.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileState;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edge's uploads on a real SQLite file and a real chunk directory. */
class SqliteFileOutboxTest {
  @TempDir Path dir;

  private FilesDb db;
  private SqliteFileOutbox outbox;

  @BeforeEach
  void open() throws Exception {
    db = new FilesDb(dir.resolve("edgesync-files.db"), dir.resolve("chunks"));
    outbox = new SqliteFileOutbox(db, Map.of("logs", 5, "clips", 1), 100L << 20);
  }

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void put_offers_manifest_chunks_roundTripToTheSameBytes() throws Exception {
    byte[] content = SignedFiles.content(1, 1_500_000);

    SqliteFileOutbox.Upload u =
        outbox.put("logs", "boot.log", new ByteArrayInputStream(content), 7);

    assertThat(u.path()).isEqualTo("logs/boot.log");
    assertThat(u.version()).isEqualTo(1);
    List<FileOffer> offers = outbox.offers(10, 10);
    assertThat(offers).hasSize(1);
    FileOffer o = offers.get(0);
    assertThat(o.getTransferId()).isEqualTo("logs/boot.log@1");
    assertThat(o.getCollection()).isEqualTo("logs");
    assertThat(o.getSignature().isEmpty()).isTrue();
    assertThat(o.getHeader().getSize()).isEqualTo(content.length);
    assertThat(o.getHeader().getSha256().toByteArray())
        .isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
    assertThat(o.getHeader().getCreatedAtMs()).isEqualTo(7);

    Manifest m = outbox.manifest("logs/boot.log", 1).orElseThrow();
    assertThat(o.getChunkCount()).isEqualTo(m.chunkCount()).isGreaterThan(1);
    java.io.ByteArrayOutputStream rebuilt = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < m.chunkCount(); i++) {
      rebuilt.writeBytes(outbox.chunk(m.hash(i)));
    }
    assertThat(rebuilt.toByteArray()).isEqualTo(content);
    assertThat(outbox.manifest("logs/boot.log", 2)).isEmpty();
  }

  @Test
  void versionsCountUpPerPath_andOffersGoByPriority() throws Exception {
    outbox.put("logs", "a.log", new ByteArrayInputStream(new byte[] {1}), 1);
    outbox.put("logs", "a.log", new ByteArrayInputStream(new byte[] {2}), 2);
    outbox.put("clips", "cam.mp4", new ByteArrayInputStream(new byte[] {3}), 3);

    assertThat(outbox.offers(10, 10))
        .extracting(FileOffer::getTransferId)
        .containsExactly("clips/cam.mp4@1", "logs/a.log@1", "logs/a.log@2");
    assertThat(outbox.offers(10, 1)).hasSize(1);
  }

  @Test
  void aSixtyFourMebibyteFile_isChunkedIntoTheStoreWhileItIsRead() throws Exception {
    long size = 64L << 20;
    Path chunks = dir.resolve("chunks");
    long[] storedAtHalf = {-1};
    // Generated as it is read: the file never exists whole, in memory or on disk.
    InputStream generated =
        new InputStream() {
          final SplittableRandom random = new SplittableRandom(42);
          long left = size;

          @Override
          public int read() {
            throw new UnsupportedOperationException("read in blocks");
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (left == 0) {
              return -1;
            }
            if (storedAtHalf[0] < 0 && left <= size / 2) {
              storedAtHalf[0] = bytesUnder(chunks);
            }
            int n = (int) Math.min(len, Math.min(left, 64 << 10));
            for (int i = 0; i < n; i++) {
              b[off + i] = (byte) random.nextInt(256);
            }
            left -= n;
            return n;
          }
        };

    SqliteFileOutbox.Upload u = outbox.put("clips", "cam.mp4", generated, 1);

    assertThat(u.size()).isEqualTo(size);
    // Half-way through the stream, nearly half of it was already in the chunk store.
    assertThat(storedAtHalf[0]).isGreaterThan(size / 2 - (1 << 20));
    assertThat(outbox.manifest("clips/cam.mp4", 1).orElseThrow().size()).isEqualTo(size);
  }

  @Test
  void reports_progressThenStored_endTheOfferAndReleaseItsChunks() throws Exception {
    byte[] content = SignedFiles.content(2, 300_000);
    outbox.put("logs", "x.log", new ByteArrayInputStream(content), 1);
    Manifest m = outbox.manifest("logs/x.log", 1).orElseThrow();

    outbox.onReport(report("logs/x.log@1", FileState.FILE_STATE_DOWNLOADING, 1000, ""), 2);
    assertThat(outbox.upload("logs/x.log", 1).orElseThrow().bytesDone()).isEqualTo(1000);
    assertThat(outbox.offers(3, 10)).hasSize(1);

    outbox.onReport(report("logs/x.log@1", FileState.FILE_STATE_STORED, content.length, ""), 3);

    assertThat(outbox.offers(4, 10)).isEmpty();
    assertThat(outbox.upload("logs/x.log", 1).orElseThrow().state())
        .isEqualTo(FileState.FILE_STATE_STORED_VALUE);
    assertThat(db.chunks().has(m.hashHex(0))).isFalse();
    assertThat(bytesUnder(dir.resolve("chunks"))).isZero();
    // A late report changes nothing.
    outbox.onReport(report("logs/x.log@1", FileState.FILE_STATE_FAILED, 0, "quota: x"), 5);
    assertThat(outbox.upload("logs/x.log", 1).orElseThrow().reason()).isNull();
  }

  @Test
  void failedReport_isRecordedWithItsReason_andAChunkAnotherUploadNamesStays() throws Exception {
    byte[] content = SignedFiles.content(3, 200_000);
    outbox.put("logs", "one.log", new ByteArrayInputStream(content), 1);
    outbox.put("logs", "two.log", new ByteArrayInputStream(content), 2); // the same chunks
    Manifest m = outbox.manifest("logs/two.log", 1).orElseThrow();

    outbox.onReport(report("logs/one.log@1", FileState.FILE_STATE_FAILED, 0, "quota: full"), 3);

    SqliteFileOutbox.Upload failed = outbox.upload("logs/one.log", 1).orElseThrow();
    assertThat(failed.state()).isEqualTo(FileState.FILE_STATE_FAILED_VALUE);
    assertThat(failed.reason()).isEqualTo("quota: full");
    assertThat(outbox.offers(4, 10))
        .extracting(FileOffer::getTransferId)
        .containsExactly("logs/two.log@1");
    for (int i = 0; i < m.chunkCount(); i++) {
      assertThat(outbox.chunk(m.hash(i))).isNotEmpty();
    }
  }

  @Test
  void badUploads_areRefusedNamingTheProblem_andStoreNothing() throws Exception {
    assertThatThrownBy(() -> outbox.put("nope", "a.log", new ByteArrayInputStream(new byte[1]), 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown upload collection 'nope'")
        .hasMessageContaining("[clips, logs]");
    assertThatThrownBy(() -> outbox.put("logs", "../x", new ByteArrayInputStream(new byte[1]), 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad file path");

    SqliteFileOutbox small = new SqliteFileOutbox(db, Map.of("logs", 5), 100_000);
    assertThatThrownBy(
            () ->
                small.put(
                    "logs",
                    "big.log",
                    new ByteArrayInputStream(SignedFiles.content(4, 400_000)),
                    1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("too_large: ");

    assertThat(outbox.all(10)).isEmpty();
    assertThat(bytesUnder(dir.resolve("chunks"))).isZero();
  }

  @Test
  void aStreamThatFails_recordsNothing() {
    InputStream failing =
        new InputStream() {
          int left = 300_000;

          @Override
          public int read() throws IOException {
            if (left <= 0) {
              throw new IOException("connection reset");
            }
            left--;
            return 7;
          }
        };
    assertThatThrownBy(() -> outbox.put("logs", "cut.log", failing, 1))
        .isInstanceOf(IOException.class);
    assertThat(outbox.all(10)).isEmpty();
    assertThat(outbox.offers(1, 10)).isEmpty();
    assertThat(bytesUnder(dir.resolve("chunks"))).isZero();
  }

  private static FileReport report(String id, FileState state, long done, String reason) {
    return FileReport.newBuilder()
        .setTransferId(id)
        .setState(state)
        .setBytesDone(done)
        .setReason(reason)
        .build();
  }

  private static long bytesUnder(Path root) {
    if (!Files.exists(root)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0; // a temporary file moved meanwhile
                }
              })
          .sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0;
    }
  }
}

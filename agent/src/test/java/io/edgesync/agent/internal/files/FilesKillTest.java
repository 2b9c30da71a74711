package io.edgesync.agent.internal.files;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a process writing the agent's file store ({@link FilesKillMain}), then the
 * store reopened here on the same files: what the killed process had recorded is all there, and the
 * transfer goes on from it.
 */
@Tag("slow")
class FilesKillTest {
  @TempDir Path dir;

  @Test
  void killedMidDownload_everyRecordedChunkIsHeld_andTheRestCompletesTheInstall() throws Exception {
    SignedFiles keys = new SignedFiles(dir);
    byte[] content = SignedFiles.content(77, 8 << 20);
    Manifest m = SignedFiles.manifest(content, FastCdc.DEFAULT);
    FileOffer offer = keys.signed("models/detector.onnx", 1, m);
    Path offerFile = Files.write(dir.resolve("offer.bin"), offer.toByteArray());
    Path data = dir.resolve("data");

    int held = runAndKill(List.of(data.toString(), offerFile.toString(), "77"), "HELD ", 40);

    try (FilesDb db = new FilesDb(data.resolve("edgesync-files.db"), data.resolve("chunks"))) {
      FileInstaller installer =
          new FileInstaller(db, data.resolve("files"), true, Clock.SYSTEM, (p, v) -> {});
      SqliteFileInbox inbox =
          new SqliteFileInbox(
              db, new OfferCheck(OfferCheck.readKeys(keys.publicKeyFile), 1L << 30), installer);
      String id = offer.getTransferId();
      FileInbox.Inbound in = inbox.transfer(id).orElseThrow();
      assertThat(in.entriesKnown()).isEqualTo(m.chunkCount());
      assertThat(in.bytesDone()).isGreaterThanOrEqualTo(m.offset(held));
      List<ChunkRange> missing = inbox.missing(id, m.chunkCount());
      int firstMissing = missing.get(0).getFirst();
      assertThat(firstMissing).isGreaterThanOrEqualTo(held);
      for (int i = 0; i < firstMissing; i++) {
        assertThat(inbox.chunk(m.hash(i))).isEqualTo(SignedFiles.chunks(content, m, i, 1).get(0));
      }
      for (ChunkRange r : missing) {
        inbox.putChunks(
            id,
            r.getFirst(),
            SignedFiles.chunks(content, m, r.getFirst(), r.getCount()),
            SignedFiles.hashes(m, r.getFirst(), r.getCount()),
            0);
      }
      CompletableFuture<FileState> done = new CompletableFuture<>();
      inbox.complete(id, (t, state, reason) -> done.complete(state));
      assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo(FileState.FILE_STATE_INSTALLED);
      installer.close();
    }
    assertThat(Files.readAllBytes(data.resolve("files/models/detector.onnx"))).isEqualTo(content);
  }

  @Test
  void killedWhileUploading_everyRecordedUploadIsWhole_andTheNextGetsTheNextVersion()
      throws Exception {
    Path data = dir.resolve("data");

    int put = runAndKill(List.of(data.toString(), "upload"), "PUT ", 3);

    try (FilesDb db = new FilesDb(data.resolve("edgesync-files.db"), data.resolve("chunks"))) {
      SqliteFileOutbox outbox = new SqliteFileOutbox(db, Map.of("logs", 1), 1L << 30);
      List<SqliteFileOutbox.Upload> all = outbox.all(100);
      assertThat(all.size()).isGreaterThanOrEqualTo(put);
      for (SqliteFileOutbox.Upload u : all) {
        Manifest m = outbox.manifest(u.path(), u.version()).orElseThrow();
        java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < m.chunkCount(); i++) {
          whole.writeBytes(outbox.chunk(m.hash(i)));
        }
        assertThat(whole.toByteArray()).isEqualTo(SignedFiles.content(u.version(), 2 << 20));
      }
      SqliteFileOutbox.Upload next =
          outbox.put("logs", "app.log", new ByteArrayInputStream(new byte[] {1}), 0);
      assertThat(next.version()).isEqualTo(all.size() + 1);
    }
  }

  /** Starts the child, waits for a line "{prefix}n" with n >= atLeast, kills it with SIGKILL. */
  private static int runAndKill(List<String> args, String prefix, int atLeast) throws Exception {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-cp",
                System.getProperty("java.class.path"),
                FilesKillMain.class.getName()));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    int last = 0;
    StringBuilder out = new StringBuilder();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        out.append(line).append('\n');
        if (line.startsWith(prefix)) {
          last = Integer.parseInt(line.substring(prefix.length()).trim());
          if (last >= atLeast) {
            p.destroyForcibly(); // SIGKILL: nothing is flushed or closed
            break;
          }
        }
      }
    }
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(last).as(out.toString()).isGreaterThanOrEqualTo(atLeast);
    return last;
  }
}

package io.edgesync.agent.internal.files;

import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.FileOffer;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The child {@link FilesKillTest} kills with SIGKILL: on the agent's file store in {@code args[0]},
 * either receives the download whose offer is in {@code args[1]} chunk by chunk ("download"),
 * printing "HELD n" after each chunk is recorded, or puts uploads one after another ("upload"),
 * printing "PUT v" after each is recorded. It never stops by itself.
 */
public final class FilesKillMain {
  private FilesKillMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    FilesDb db = new FilesDb(dir.resolve("edgesync-files.db"), dir.resolve("chunks"));
    if (args[1].equals("upload")) {
      SqliteFileOutbox outbox = new SqliteFileOutbox(db, Map.of("logs", 1), 1L << 30);
      for (int v = 1; ; v++) {
        outbox.put("logs", "app.log", new ByteArrayInputStream(SignedFiles.content(v, 2 << 20)), v);
        System.out.println("PUT " + v);
      }
    }
    FileOffer offer = FileOffer.parseFrom(Files.readAllBytes(Path.of(args[1])));
    byte[] content =
        SignedFiles.content(Long.parseLong(args[2]), (int) offer.getHeader().getSize());
    Manifest m = SignedFiles.manifest(content, FastCdc.DEFAULT);
    FileInstaller installer =
        new FileInstaller(db, dir.resolve("files"), true, Clock.SYSTEM, (p, v) -> {});
    SqliteFileInbox inbox = new SqliteFileInbox(db, new OfferCheck(Map.of(), 1L << 30), installer);
    inbox.begin(offer, 1);
    inbox.addEntries(offer.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    for (int i = 0; i < m.chunkCount(); i++) {
      inbox.putChunks(
          offer.getTransferId(),
          i,
          SignedFiles.chunks(content, m, i, 1),
          SignedFiles.hashes(m, i, 1),
          100);
      System.out.println("HELD " + (i + 1));
    }
    Thread.sleep(Long.MAX_VALUE); // wait to be killed
  }
}

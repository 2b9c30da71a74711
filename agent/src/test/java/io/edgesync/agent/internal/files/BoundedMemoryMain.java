package io.edgesync.agent.internal.files;

import io.edgesync.engine.files.FileLimits;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Run in a JVM of its own with a small heap ({@link BoundedMemoryTest}): uploads a generated file
 * of the given size into the chunk store, then receives the same version as a signed download (all
 * its chunks held at once by deduplication) and installs it, checking the installed file's SHA-256.
 * Prints "INSTALLED &lt;bytes&gt; &lt;sha256&gt;" and exits 0, or fails.
 */
public final class BoundedMemoryMain {
  private BoundedMemoryMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    long size = Long.parseLong(args[1]);
    SignedFiles keys = new SignedFiles(dir);
    try (FilesDb db = new FilesDb(dir.resolve("edgesync-files.db"), dir.resolve("chunks"))) {
      SqliteFileOutbox outbox = new SqliteFileOutbox(db, Map.of("uploads", 10), size);
      outbox.put("uploads", "big.bin", generated(size), 1);
      Manifest m = outbox.manifest("uploads/big.bin", 1).orElseThrow();
      FileInstaller installer =
          new FileInstaller(db, dir.resolve("files"), true, Clock.SYSTEM, (p, v) -> {});
      SqliteFileInbox inbox =
          new SqliteFileInbox(
              db, new OfferCheck(OfferCheck.readKeys(keys.publicKeyFile), size), installer);
      FileOffer offer = keys.signed("models/big.bin", 1, m);
      if (inbox.refusal(offer).isPresent()) {
        throw new AssertionError(inbox.refusal(offer).get());
      }
      inbox.begin(offer, 1);
      for (int first = 0; first < m.chunkCount(); first += FileLimits.MAX_PAGE_CHUNKS) {
        int n = Math.min(FileLimits.MAX_PAGE_CHUNKS, m.chunkCount() - first);
        inbox.addEntries(
            offer.getTransferId(),
            first,
            Arrays.copyOfRange(m.lengths(), first, first + n),
            SignedFiles.hashes(m, first, n),
            0);
      }
      if (!inbox.missing(offer.getTransferId(), 10).isEmpty()) {
        throw new AssertionError("chunks held by the upload were not counted as held");
      }
      CompletableFuture<String> done = new CompletableFuture<>();
      inbox.complete(
          offer.getTransferId(), (id, state, reason) -> done.complete(state + " " + reason));
      String outcome = done.get(10, TimeUnit.MINUTES);
      installer.close();
      if (!outcome.startsWith(FileState.FILE_STATE_INSTALLED.name())) {
        throw new AssertionError(outcome);
      }
      Path installed = dir.resolve("files/models/big.bin");
      String sha = sha256(installed);
      if (!sha.equals(HexFormat.of().formatHex(m.sha256()))) {
        throw new AssertionError("installed file hashes to " + sha);
      }
      System.out.println("INSTALLED " + Files.size(installed) + " " + sha);
    }
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(d.digest());
  }

  /** {@code size} pseudo-random bytes, made as they are read. */
  static InputStream generated(long size) {
    return new InputStream() {
      final SplittableRandom random = new SplittableRandom(7);
      long left = size;

      @Override
      public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left == 0) {
          return -1;
        }
        int n = (int) Math.min(len, left);
        for (int i = 0; i < n; i += 8) {
          long r = random.nextLong();
          for (int k = 0; k < 8 && i + k < n; k++) {
            b[off + i + k] = (byte) (r >>> (8 * k));
          }
        }
        left -= n;
        return n;
      }
    };
  }
}

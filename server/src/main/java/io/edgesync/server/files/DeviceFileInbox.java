package io.edgesync.server.files;

import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileLimits;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device's uploads, for its sessions: which offers the cloud takes (an upload collection,
 * within the size limit and the device's quota), each transfer's entries and held chunks in the
 * {@link UploadStore}, the chunks in the cloud's shared chunk store (so an upload sends only chunks
 * the cloud does not hold, from any file, version or device), and the check that completes an
 * upload. Uploads are not delta-coded: {@link #held} is always empty.
 *
 * <p>Called on the session's thread under its monitor; every mutating call is committed when it
 * returns. {@link #complete} reads the chunks back on the files' assembly thread.
 */
final class DeviceFileInbox implements FileInbox {
  private static final Logger log = LoggerFactory.getLogger(DeviceFileInbox.class);
  private static final int VERIFY_PAGE_CHUNKS = 1024;

  private final Supplier<String> deviceOf;
  private final CloudFiles files;
  private final UploadStore uploads;
  private final Executor assembler;

  DeviceFileInbox(Supplier<String> device, CloudFiles files, Executor assembler) {
    this.deviceOf = device;
    this.files = files;
    this.uploads = files.uploads();
    this.assembler = assembler;
  }

  @Override
  public Optional<Inbound> transfer(String transferId) {
    return uploads.transfer(device(), transferId);
  }

  @Override
  public Optional<String> refusal(FileOffer offer) {
    FileSettings s = files.settings();
    try {
      FileVersion.check(offer.getHeader());
    } catch (IllegalArgumentException e) {
      return Optional.of("invalid: " + e.getMessage());
    }
    String expectedId =
        FileVersion.transferId(offer.getHeader().getPath(), offer.getHeader().getVersion());
    if (!offer.getTransferId().equals(expectedId)) {
      return Optional.of(
          "invalid: transfer id '" + offer.getTransferId() + "' is not '" + expectedId + "'");
    }
    if (!s.uploadCollections().contains(offer.getCollection())) {
      return Optional.of(
          "collection: '"
              + offer.getCollection()
              + "' is not an upload collection of this server; allowed: "
              + s.uploadCollections());
    }
    long size = offer.getHeader().getSize();
    if (size > s.maxUploadBytes()) {
      return Optional.of(
          "too_large: "
              + size
              + " bytes is over server.files.max_upload_bytes ("
              + s.maxUploadBytes()
              + ")");
    }
    if (offer.getChunkCount() > FileLimits.MAX_CHUNKS
        || (size > 0) != (offer.getChunkCount() > 0)) {
      return Optional.of(
          "invalid: " + offer.getChunkCount() + " chunks for a file of " + size + " bytes");
    }
    if (uploads.transfer(device(), offer.getTransferId()).isEmpty()) {
      long inUse = uploads.bytesInUse(device());
      if (inUse + size > s.uploadQuotaBytesPerDevice()) {
        return Optional.of(
            "quota: device "
                + device()
                + " holds "
                + inUse
                + " bytes of uploads; "
                + size
                + " more is over server.files.upload_quota_bytes_per_device ("
                + s.uploadQuotaBytesPerDevice()
                + ")");
      }
    }
    return Optional.empty();
  }

  @Override
  public void begin(FileOffer offer, long nowMs) {
    uploads.begin(device(), offer, nowMs);
  }

  @Override
  public Optional<Held> held(String path) {
    return Optional.empty(); // uploads are sent whole (chunks the cloud lacks), never as deltas
  }

  @Override
  public void addEntries(
      String transferId, int first, int[] lengths, byte[] hashes, long deltaBase) {
    // Asked before the upload store's transaction, all at once: on PostgreSQL the chunk store is
    // another connection, and a page of up to 4,096 lookups must not hold the store's lock.
    List<String> names = new ArrayList<>(hashes.length / Manifest.HASH_BYTES);
    for (int at = 0; at + Manifest.HASH_BYTES <= hashes.length; at += Manifest.HASH_BYTES) {
      names.add(HexFormat.of().formatHex(hashes, at, at + Manifest.HASH_BYTES));
    }
    Set<String> held = files.chunks().held(names);
    uploads.addEntries(
        device(),
        transferId,
        first,
        lengths,
        hashes,
        deltaBase,
        h -> held.contains(HexFormat.of().formatHex(h)));
  }

  @Override
  public List<ChunkRange> missing(String transferId, int maxChunks) {
    return uploads.missing(device(), transferId, maxChunks);
  }

  @Override
  public int[] lengths(String transferId, int first, int count) {
    return uploads.lengths(device(), transferId, first, count);
  }

  @Override
  public byte[] hashes(String transferId, int first, int count) {
    return uploads.hashes(device(), transferId, first, count);
  }

  @Override
  public void putChunks(
      String transferId, int first, List<byte[]> data, byte[] hashes, long frameBytes)
      throws IOException {
    if (hashes.length != data.size() * Manifest.HASH_BYTES) {
      throw new IllegalArgumentException(
          data.size() + " chunks need " + data.size() * 32 + " hash bytes, had " + hashes.length);
    }
    for (int i = 0; i < data.size(); i++) {
      String hex = HexFormat.of().formatHex(hashes, i * 32, (i + 1) * 32);
      files.chunks().put(hex, data.get(i)); // checked again: nothing unverified is stored
    }
    uploads.held(device(), transferId, first, data.size(), hashes, frameBytes);
  }

  @Override
  public byte[] chunk(byte[] hash) throws IOException {
    return files.chunks().require(hash);
  }

  @Override
  public List<Inbound> unreported(int max) {
    return uploads.unreported(device(), max);
  }

  @Override
  public void reported(String transferId, FileState state) {
    uploads.reported(device(), transferId, state);
  }

  @Override
  public void setState(String transferId, FileState state, String reason, long nowMs) {
    uploads.setState(device(), transferId, state, reason, nowMs);
  }

  /**
   * Reads the upload back from its chunks in order (a page of entries at a time), checking each
   * chunk's length and the whole file's size and SHA-256 against the offer; records STORED, or
   * FAILED with the reason (then the upload is never listed as stored nor served), and tells {@code
   * done}. The chunks are the stored file: nothing is copied.
   */
  @Override
  public void complete(String transferId, Completion done) {
    String device = device(); // asked here, on the session's thread
    try {
      assembler.execute(() -> finish(device, transferId, done));
    } catch (RejectedExecutionException e) {
      log.debug("upload {} of {} not completed: the server is closing", transferId, device);
    }
  }

  private void finish(String device, String transferId, Completion done) {
    String failure;
    try {
      failure = verify(device, transferId);
    } catch (IOException | RuntimeException e) {
      failure = "assembly: " + e.getMessage();
    }
    FileState state = failure == null ? FileState.FILE_STATE_STORED : FileState.FILE_STATE_FAILED;
    uploads.setState(device, transferId, state, failure, files.nowMs());
    done.finished(transferId, state, failure == null ? "" : failure);
  }

  /** Null when the upload's chunks make the offered file; else what is wrong. */
  private String verify(String device, String transferId) throws IOException {
    Inbound t =
        uploads
            .transfer(device, transferId)
            .orElseThrow(() -> new IOException("no upload " + transferId));
    FileOffer offer = t.offer();
    if (t.entriesKnown() != offer.getChunkCount()) {
      return "incomplete: " + t.entriesKnown() + " of " + offer.getChunkCount() + " entries known";
    }
    MessageDigest whole = Manifest.newDigest();
    long size = 0;
    for (int first = 0; first < offer.getChunkCount(); first += VERIFY_PAGE_CHUNKS) {
      int count = Math.min(VERIFY_PAGE_CHUNKS, offer.getChunkCount() - first);
      List<Object[]> page = uploads.entries(device, transferId, first, count);
      for (int i = 0; i < page.size(); i++) {
        Object[] e = page.get(i);
        if (!(boolean) e[2]) {
          return "incomplete: chunk " + (first + i) + " is not held";
        }
        String hex = HexFormat.of().formatHex((byte[]) e[1]);
        Optional<byte[]> data = files.chunks().get(hex);
        if (data.isEmpty() || data.get().length != (int) e[0]) {
          return "missing_chunk: chunk " + (first + i) + " (" + hex + ") is not in the store";
        }
        whole.update(data.get());
        size += data.get().length;
      }
    }
    long expectedSize = offer.getHeader().getSize();
    if (size != expectedSize) {
      return "size_mismatch: the chunks make " + size + " bytes, the offer said " + expectedSize;
    }
    byte[] sha = whole.digest();
    byte[] expected = offer.getHeader().getSha256().toByteArray();
    if (!Arrays.equals(sha, expected)) {
      return "sha256_mismatch: the chunks hash to "
          + HexFormat.of().formatHex(sha)
          + ", the offer said "
          + HexFormat.of().formatHex(expected);
    }
    return null;
  }

  private String device() {
    return CloudFiles.deviceOf(deviceOf);
  }
}

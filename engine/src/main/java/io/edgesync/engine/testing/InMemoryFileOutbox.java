package io.edgesync.engine.testing;

import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileState;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * An in-memory {@link FileOutbox}: versions added with {@link #add}, offered until the receiver
 * reports a final state, every report kept. An optional signer fills the offer's signature (the
 * cloud's release key); chunks can be corrupted to test the receiver. Not thread safe.
 */
public final class InMemoryFileOutbox implements FileOutbox {
  private final Map<String, byte[]> chunks = new HashMap<>();
  private final Map<String, Manifest> manifests = new HashMap<>();
  private final Map<String, FileOffer> pending = new LinkedHashMap<>();
  private final List<FileReport> reports = new ArrayList<>();
  private final UnaryOperator<FileOffer> signer;
  private long chunkReads;
  private long manifestReads;

  public InMemoryFileOutbox(UnaryOperator<FileOffer> signer) {
    this.signer = signer;
  }

  /** Chunks {@code content}, keeps it, and offers it as {@code path@version}. */
  public Manifest add(String path, long version, byte[] content, String collection) {
    Manifest m;
    try {
      m = Manifest.of(new ByteArrayInputStream(content), FastCdc.DEFAULT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int i = 0; i < m.chunkCount(); i++) {
      chunks.put(
          m.hashHex(i), Arrays.copyOfRange(content, (int) m.offset(i), (int) m.offset(i + 1)));
    }
    String id = FileVersion.transferId(path, version);
    manifests.put(id, m);
    FileHeader header =
        FileHeader.newBuilder()
            .setPath(path)
            .setVersion(version)
            .setSize(m.size())
            .setSha256(ByteString.copyFrom(m.sha256()))
            .build();
    FileOffer offer =
        FileOffer.newBuilder()
            .setTransferId(id)
            .setHeader(header)
            .setChunkCount(m.chunkCount())
            .setCollection(collection)
            .build();
    pending.put(id, signer.apply(offer));
    return m;
  }

  /** Keeps a version's manifest and chunks without offering it (an earlier version, a base). */
  public void keep(String path, long version, byte[] content) {
    add(path, version, content, "");
    pending.remove(FileVersion.transferId(path, version));
  }

  /**
   * Stops offering the unfinished versions of {@code path} older than {@code version} (a newer
   * rollout of the path reached the receiver, as the server supersedes older rollouts); their
   * manifests and chunks stay (delta bases).
   */
  public void withdrawOlder(String path, long version) {
    pending
        .values()
        .removeIf(
            o -> o.getHeader().getPath().equals(path) && o.getHeader().getVersion() < version);
  }

  /** Replaces a stored chunk's bytes (the chunk keeps its name): a corrupt sender. */
  public void corruptChunk(byte[] hash) {
    byte[] c = chunks.get(HexFormat.of().formatHex(hash));
    c[c.length / 2] ^= 0x5A;
  }

  public List<FileReport> reports() {
    return reports;
  }

  public long chunkReads() {
    return chunkReads;
  }

  /** Calls of {@link #manifest} so far. */
  public long manifestReads() {
    return manifestReads;
  }

  @Override
  public List<FileOffer> offers(long nowMs, int max) {
    return pending.values().stream().limit(max).toList();
  }

  @Override
  public Optional<Manifest> manifest(String path, long version) {
    manifestReads++;
    return Optional.ofNullable(manifests.get(FileVersion.transferId(path, version)));
  }

  @Override
  public byte[] chunk(byte[] hash) throws IOException {
    chunkReads++;
    byte[] c = chunks.get(HexFormat.of().formatHex(hash));
    if (c == null) {
      throw new IOException("no chunk " + HexFormat.of().formatHex(hash));
    }
    return c;
  }

  @Override
  public void onReport(FileReport report, long nowMs) {
    reports.add(report);
    if (report.getState() == FileState.FILE_STATE_INSTALLED
        || report.getState() == FileState.FILE_STATE_FAILED
        || report.getState() == FileState.FILE_STATE_STORED) {
      pending.remove(report.getTransferId());
    }
  }
}

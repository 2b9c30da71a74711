package io.edgesync.engine.testing;

import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * An in-memory {@link FileInbox} with the semantics of the agent's: dedup through one chunk map, a
 * newer version supersedes an unfinished older one, completion checks size and SHA-256 and
 * "installs" (keeps the file's bytes and makes the version held). The refusal rule is given (the
 * agent checks signatures; tests and the simulator pass what they need). Completion runs at once,
 * on the calling thread, unless an {@link Assembler} defers it (the simulator: an install takes
 * time, and a crash can fall between the install and the report of its outcome). Every other call
 * takes effect when it returns, as the agent's durable store does. Not thread safe.
 */
public final class InMemoryFileInbox implements FileInbox {
  private final Function<FileOffer, Optional<String>> refusal;
  private final FileState doneState;
  private final Map<String, byte[]> chunks = new HashMap<>();
  private final Map<String, T> transfers = new LinkedHashMap<>();
  private final Map<String, Held> held = new HashMap<>();
  private final Map<String, byte[]> installed = new HashMap<>();
  private long chunkBytesWritten;
  private Assembler assembler =
      (assembly, report) -> {
        assembly.run();
        report.run();
      };

  /**
   * When a completion's two steps run: {@code assembly} checks and installs the file (atomically:
   * the path holds the new version or the old one), {@code report} hands the outcome to the {@link
   * Completion}. Either may be dropped (a crash before it).
   */
  @FunctionalInterface
  public interface Assembler {
    void start(Runnable assembly, Runnable report);
  }

  private static final class T {
    FileOffer offer;
    FileState state = FileState.FILE_STATE_DOWNLOADING;
    FileState reported = FileState.FILE_STATE_UNSPECIFIED;
    String reason = "";
    final List<Integer> lengths = new ArrayList<>();
    final ByteArrayOutputStream hashes = new ByteArrayOutputStream();
    byte[] hashArray = new byte[0];
    final BitSet held = new BitSet();
    long deltaBase;
    long bytesDone;
    long bytesReceived;
  }

  /**
   * @param refusal why an offer is refused (empty to take it)
   * @param doneState INSTALLED for a device, STORED for the cloud
   */
  public InMemoryFileInbox(Function<FileOffer, Optional<String>> refusal, FileState doneState) {
    this.refusal = refusal;
    this.doneState = doneState;
  }

  /** Runs completions with {@code assembler} instead of at once. */
  public InMemoryFileInbox assembleWith(Assembler assembler) {
    this.assembler = assembler;
    return this;
  }

  /** The installed bytes of a path's newest held version, if any (the same array until changed). */
  public Optional<byte[]> installed(String path) {
    return Optional.ofNullable(installed.get(path));
  }

  /** Bytes written to the chunk map (a chunk held already is not written again). */
  public long chunkBytesWritten() {
    return chunkBytesWritten;
  }

  /** Makes a version held, as if installed earlier (a delta base). */
  public void hold(String path, long version, byte[] content, Manifest m) {
    for (int i = 0; i < m.chunkCount(); i++) {
      long from = m.offset(i);
      chunks.put(m.hashHex(i), Arrays.copyOfRange(content, (int) from, (int) m.offset(i + 1)));
    }
    held.put(path, new Held(version, m));
    installed.put(path, content.clone());
  }

  @Override
  public Optional<Inbound> transfer(String id) {
    T t = transfers.get(id);
    return t == null ? Optional.empty() : Optional.of(view(t));
  }

  private static Inbound view(T t) {
    return new Inbound(
        t.offer, t.state, t.reason, t.lengths.size(), t.deltaBase, t.bytesDone, t.bytesReceived);
  }

  @Override
  public Optional<String> refusal(FileOffer offer) {
    return refusal.apply(offer);
  }

  @Override
  public void begin(FileOffer offer, long nowMs) {
    if (transfers.containsKey(offer.getTransferId())) {
      return;
    }
    String path = offer.getHeader().getPath();
    for (T other : transfers.values()) {
      if (other.offer.getHeader().getPath().equals(path)
          && other.offer.getHeader().getVersion() < offer.getHeader().getVersion()
          && other.state == FileState.FILE_STATE_DOWNLOADING) {
        other.state = FileState.FILE_STATE_FAILED;
        other.reason = "superseded: by version " + offer.getHeader().getVersion();
      }
    }
    T t = new T();
    t.offer = offer;
    transfers.put(offer.getTransferId(), t);
  }

  @Override
  public Optional<Held> held(String path) {
    return Optional.ofNullable(held.get(path));
  }

  @Override
  public void addEntries(String id, int first, int[] lengths, byte[] hashes, long deltaBase) {
    T t = transfers.get(id);
    if (first != t.lengths.size()) {
      throw new IllegalStateException("entries start at " + first + ", have " + t.lengths.size());
    }
    if (first == 0) {
      t.deltaBase = deltaBase;
    }
    for (int i = 0; i < lengths.length; i++) {
      int index = first + i;
      t.lengths.add(lengths[i]);
      byte[] h = Arrays.copyOfRange(hashes, i * 32, i * 32 + 32);
      if (!isZero(h) && chunks.containsKey(HexFormat.of().formatHex(h))) {
        t.held.set(index);
        t.bytesDone += lengths[i];
      }
    }
    t.hashes.writeBytes(hashes);
    t.hashArray = t.hashes.toByteArray();
  }

  @Override
  public List<ChunkRange> missing(String id, int maxChunks) {
    T t = transfers.get(id);
    List<ChunkRange> out = new ArrayList<>();
    int n = 0;
    for (int i = t.held.nextClearBit(0); i < t.lengths.size() && n < maxChunks; ) {
      int end =
          Math.min(
              t.held.nextSetBit(i) < 0 ? t.lengths.size() : t.held.nextSetBit(i),
              i + (maxChunks - n));
      out.add(ChunkRange.newBuilder().setFirst(i).setCount(end - i).build());
      n += end - i;
      i = t.held.nextClearBit(end);
    }
    return out;
  }

  @Override
  public int[] lengths(String id, int first, int count) {
    T t = transfers.get(id);
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = t.lengths.get(first + i);
    }
    return out;
  }

  @Override
  public byte[] hashes(String id, int first, int count) {
    return Arrays.copyOfRange(transfers.get(id).hashArray, first * 32, (first + count) * 32);
  }

  @Override
  public void putChunks(String id, int first, List<byte[]> data, byte[] hashes, long frameBytes) {
    T t = transfers.get(id);
    for (int i = 0; i < data.size(); i++) {
      String hex = HexFormat.of().formatHex(hashes, i * 32, i * 32 + 32);
      if (chunks.putIfAbsent(hex, data.get(i).clone()) == null) {
        chunkBytesWritten += data.get(i).length;
      }
      System.arraycopy(hashes, i * 32, t.hashArray, (first + i) * 32, 32);
      if (!t.held.get(first + i)) {
        t.held.set(first + i);
        t.bytesDone += data.get(i).length;
      }
    }
    t.bytesReceived += frameBytes;
  }

  @Override
  public byte[] chunk(byte[] hash) throws IOException {
    byte[] c = chunks.get(HexFormat.of().formatHex(hash));
    if (c == null) {
      throw new IOException("no chunk " + HexFormat.of().formatHex(hash));
    }
    return c;
  }

  @Override
  public List<Inbound> unreported(int max) {
    List<Inbound> out = new ArrayList<>();
    for (T t : transfers.values()) {
      if (t.reported != t.state
          && t.state != FileState.FILE_STATE_DOWNLOADING
          && out.size() < max) {
        out.add(view(t));
      }
    }
    return out;
  }

  @Override
  public void reported(String id, FileState state) {
    transfers.get(id).reported = state;
  }

  @Override
  public void setState(String id, FileState state, String reason, long nowMs) {
    T t = transfers.get(id);
    t.state = state;
    t.reason = reason == null ? "" : reason;
  }

  @Override
  public void complete(String id, Completion done) {
    String[] outcome = new String[2];
    assembler.start(
        () -> {
          String failure = assemble(id);
          outcome[0] = failure == null ? doneState.name() : FileState.FILE_STATE_FAILED.name();
          outcome[1] = failure == null ? "" : failure;
        },
        () -> done.finished(id, FileState.valueOf(outcome[0]), outcome[1]));
  }

  /**
   * Assembles and installs the transfer's file; returns why it failed, or null. A transfer that
   * ended while its assembly waited (a newer version superseded it) is not installed: a newer
   * version's delta may already be planned against the version installed now.
   */
  private String assemble(String id) {
    T t = transfers.get(id);
    if (t.state == FileState.FILE_STATE_FAILED) {
      return t.reason;
    }
    try {
      ByteArrayOutputStream file = new ByteArrayOutputStream();
      for (int i = 0; i < t.lengths.size(); i++) {
        file.writeBytes(chunk(Arrays.copyOfRange(t.hashArray, i * 32, i * 32 + 32)));
      }
      byte[] bytes = file.toByteArray();
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(bytes);
      if (bytes.length != t.offer.getHeader().getSize()
          || !Arrays.equals(sha, t.offer.getHeader().getSha256().toByteArray())) {
        return "hash_mismatch: the assembled file differs";
      }
      int[] lengths = t.lengths.stream().mapToInt(Integer::intValue).toArray();
      String path = t.offer.getHeader().getPath();
      held.put(
          path,
          new Held(
              t.offer.getHeader().getVersion(),
              new Manifest(bytes.length, sha, lengths, t.hashArray)));
      installed.put(path, bytes);
      return null;
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      return "store_error: " + e.getMessage();
    }
  }

  private static boolean isZero(byte[] h) {
    for (byte b : h) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }
}

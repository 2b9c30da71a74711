package io.edgesync.engine.files;

import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The receiving side of file transfers, durable: the offers it took, each transfer's chunk entries
 * and which of them it holds, and a content-addressed chunk store shared by all transfers. The
 * edge's is its downloads (and installs what completes); the cloud's, one device's uploads (and
 * stores what completes). {@link FileReceiving} drives it.
 *
 * <p>Called on the engine's thread (the agent loop; the cloud session's monitor); calls may do disk
 * I/O but never wait for the network. Every mutating call is durable when it returns: a crash right
 * after loses nothing it recorded, so a transfer resumes from its last held chunk.
 */
public interface FileInbox {
  /** A transfer as stored. */
  record Inbound(
      FileOffer offer,
      FileState state,
      String reason,
      /** Chunk entries known so far (manifest pages or delta plan), of offer.chunk_count. */
      int entriesKnown,
      /** The base version of the delta plan the entries came from, 0 if from the manifest. */
      long deltaBase,
      /** Bytes of the file held verified. */
      long bytesDone,
      /** Frame bytes received for this transfer, all sessions. */
      long bytesReceived) {
    public boolean isFinal() {
      return state == FileState.FILE_STATE_INSTALLED
          || state == FileState.FILE_STATE_FAILED
          || state == FileState.FILE_STATE_STORED;
    }
  }

  /** A version this side holds whole (installed on the edge), usable as a delta base. */
  record Held(long version, Manifest manifest) {}

  Optional<Inbound> transfer(String transferId);

  /**
   * Why this side refuses an offer, or empty to take it: the edge checks the signature against its
   * trusted release keys ("bad_signature: ...", "unsigned: ...", "untrusted_key: ...") and its size
   * limit; the cloud checks the upload collection and the device's quota. The reason starts with a
   * word naming the problem, then ": " and the detail.
   */
  Optional<String> refusal(FileOffer offer);

  /**
   * Records an offer as a new transfer in state DOWNLOADING with no entries, or does nothing if the
   * transfer exists. A newer version of a path supersedes an older unfinished transfer of it: the
   * store marks the older one FAILED "superseded".
   */
  void begin(FileOffer offer, long nowMs);

  /** The newest version of {@code path} held whole, if any. */
  Optional<Held> held(String path);

  /**
   * Appends chunk entries {@code [first, first + lengths.length)}: lengths, and per entry 32 hash
   * bytes, all zero where the hash is not known yet (new chunks of a delta plan). {@code first}
   * equals {@link Inbound#entriesKnown()}. Entries whose hash the chunk store already holds count
   * as held at once (deduplication across files and versions). {@code deltaBase} is recorded with
   * the first page.
   */
  void addEntries(String transferId, int first, int[] lengths, byte[] hashes, long deltaBase);

  /** Up to {@code maxChunks} entries not held yet, in order, as ranges. */
  List<ChunkRange> missing(String transferId, int maxChunks);

  /** Lengths of entries {@code [first, first + count)}. */
  int[] lengths(String transferId, int first, int count);

  /** Hashes of entries {@code [first, first + count)}, 32 bytes each, zero where unknown. */
  byte[] hashes(String transferId, int first, int count);

  /**
   * Stores chunks {@code [first, first + data.size())} of the transfer, whose hashes the caller
   * checked ({@code hashes}: 32 bytes per chunk), in the chunk store, and marks them held with
   * those hashes; adds their bytes to bytesDone and {@code frameBytes} to bytesReceived.
   */
  void putChunks(String transferId, int first, List<byte[]> data, byte[] hashes, long frameBytes)
      throws IOException;

  /** A chunk's bytes from the chunk store (base chunks for a delta's dictionary). */
  byte[] chunk(byte[] hash) throws IOException;

  /**
   * Transfers whose current state the sender has not been told yet (a report lost with its
   * connection, or a state set outside a session: an install the device's program reported failed),
   * at most {@code max}, oldest change first.
   */
  List<Inbound> unreported(int max);

  /** The sender was sent a report of {@code state} for the transfer (durable). */
  void reported(String transferId, FileState state);

  /** Records a state (and reason) of the transfer. */
  void setState(String transferId, FileState state, String reason, long nowMs);

  /**
   * Every entry is held: assemble the file from its chunks through disk, check its size and SHA-256
   * against the offer, and install it (edge: atomically at its path, the previous version kept) or
   * store it (cloud). Runs off the engine's thread when it takes long; the outcome comes back
   * through {@code done} (on any thread), and the caller records it with {@link #setState}. An
   * assembly that runs after the transfer became final (a newer offer superseded it while it
   * waited) installs nothing and reports that state; a version older than the one installed is
   * never installed.
   */
  void complete(String transferId, Completion done);

  /** Where an assembly ended: INSTALLED or STORED, or FAILED with its reason. */
  @FunctionalInterface
  interface Completion {
    void finished(String transferId, FileState state, String reason);
  }
}

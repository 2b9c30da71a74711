package io.edgesync.engine.files;

import io.edgesync.protocol.wire.ChunkPack;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.ChunkRanges;
import io.edgesync.protocol.wire.DeltaPlan;
import io.edgesync.protocol.wire.DeltaRun;
import io.edgesync.protocol.wire.FileData;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileRequest;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.ManifestPage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The receiving side of file transfers in one session (edge: downloads; cloud: one device's
 * uploads). It takes offers, asks for the manifest or a delta plan, then for the chunks its {@link
 * FileInbox} lacks, a {@link ReceiveWindow} at a time, checks and stores what arrives, has the
 * inbox assemble a complete file, and reports each state to the sender.
 *
 * <p>Everything it learns is in the inbox before it asks for more, so a new session (after a cut
 * link, a restart or kill -9) asks only for what is still missing. Nothing of a pack is stored
 * unless the whole pack decodes to the lengths and hashes it must have.
 *
 * <p>Not thread safe: owned by the engine's thread. Only {@link #completion} may be called from
 * another thread (the inbox's assembler); it queues the outcome and calls the wakeup, and the
 * engine's thread then calls {@link #drainCompletions}.
 */
public final class FileReceiving {
  /** How often a transfer's progress is reported while chunks arrive. */
  static final long REPORT_INTERVAL_MS = 1_000;

  /** Most transfers this side works on at once in a session; more offers wait their turn. */
  static final int MAX_ACTIVE_TRANSFERS = 64;

  private final FileInbox inbox;
  private final FileLink link;
  private final Runnable wakeup;
  private final ReceiveWindow window = new ReceiveWindow();
  private final Map<String, Rx> active = new LinkedHashMap<>();
  private final ConcurrentLinkedQueue<String[]> completions = new ConcurrentLinkedQueue<>();
  private boolean open;

  /** What the current pump may still ask for, bytes. */
  private long capBytes = Long.MAX_VALUE;

  /** A transfer this session works on. */
  private static final class Rx {
    final FileOffer offer;

    /** Chunk indices asked for in this session and not arrived. */
    final BitSet requested = new BitSet();

    /** Chunks below this were asked for in this session (or were held when asked). */
    int nextIndex;

    /**
     * Decoded bytes asked for in this session and not arrived: this transfer's part of the window.
     */
    long requestedBytes;

    boolean entriesRequested;
    boolean assembling;
    long lastReportMs = Long.MIN_VALUE;

    Rx(FileOffer offer) {
      this.offer = offer;
    }

    String id() {
      return offer.getTransferId();
    }
  }

  public FileReceiving(FileInbox inbox, FileLink link, Runnable wakeup) {
    this.inbox = inbox;
    this.link = link;
    this.wakeup = wakeup;
  }

  // ------------------------------------------------------------------ session

  /** The session opened: tell the sender what it has not been told yet. */
  public void onOpen(long nowMs) {
    open = true;
    for (FileInbox.Inbound in : inbox.unreported(MAX_ACTIVE_TRANSFERS)) {
      report(in.offer(), in.state(), in.reason(), in);
    }
  }

  /** The session ended: nothing asked is on its way any more. */
  public void onClose() {
    open = false;
    window.reset();
    active.clear();
  }

  // ------------------------------------------------------------------ frames

  public void onOffer(long nowMs, FileOffer offer) {
    String problem = offerProblem(offer);
    if (problem != null) {
      link.send(reportFrame(offer, FileState.FILE_STATE_FAILED, problem, 0, 0));
      return;
    }
    Optional<FileInbox.Inbound> known = inbox.transfer(offer.getTransferId());
    if (known.isPresent() && known.get().isFinal()) {
      report(offer, known.get().state(), known.get().reason(), known.get());
      return;
    }
    if (known.isEmpty()) {
      Optional<String> refusal = inbox.refusal(offer);
      if (refusal.isPresent()) {
        inbox.begin(offer, nowMs);
        fail(nowMs, offer, refusal.get());
        return;
      }
      inbox.begin(offer, nowMs);
      dropSuperseded(offer);
      reportUnreported(); // the versions it superseded: their sender stops sending them now
    }
    if (!active.containsKey(offer.getTransferId()) && active.size() < MAX_ACTIVE_TRANSFERS) {
      active.put(offer.getTransferId(), new Rx(offer));
    }
    pump(nowMs);
  }

  /** A FileData frame of {@code frameBytes} on the wire. */
  public void onData(long nowMs, FileData data, long frameBytes) {
    Rx rx = active.get(data.getTransferId());
    if (rx == null) {
      return; // an answer for a transfer this session no longer works on (cancelled, superseded)
    }
    try {
      switch (data.getBodyCase()) {
        case MANIFEST -> onManifest(rx, data.getManifest());
        case PLAN -> onPlan(rx, data.getPlan());
        case PACKS -> {
          for (ChunkPack pack : data.getPacks().getPacksList()) {
            onPack(nowMs, rx, pack, frameBytes / Math.max(1, data.getPacks().getPacksCount()));
          }
        }
        case REFUSAL -> throw new TransferFailed("refused_by_sender: " + data.getRefusal());
        default -> throw new TransferFailed("invalid_file: FileData without a body");
      }
    } catch (TransferFailed e) {
      abandon(nowMs, rx, e.getMessage());
      return;
    } catch (IOException | RuntimeException e) {
      abandon(nowMs, rx, "store_error: " + e.getMessage());
      return;
    }
    if (data.hasPacks()) {
      maybeReportProgress(nowMs, rx); // progress is bytes held: only packs move it
    }
    pump(nowMs);
  }

  /** Finished assemblies, on the engine's thread: record them and tell the sender. */
  public void drainCompletions(long nowMs) {
    for (String[] c = completions.poll(); c != null; c = completions.poll()) {
      FileState state = FileState.valueOf(c[1]);
      inbox.setState(c[0], state, c[2], nowMs);
      Rx rx = remove(c[0]);
      Optional<FileInbox.Inbound> in = inbox.transfer(c[0]);
      if (open && in.isPresent()) {
        report(in.get().offer(), state, c[2], in.get());
      }
      if (rx != null) {
        pump(nowMs);
      }
    }
  }

  /** Local changes (a program reported an install): tell the sender. */
  public void onLocalChange(long nowMs) {
    drainCompletions(nowMs);
    reportUnreported();
  }

  /** Tells the sender the states it has not been told (while the session is open). */
  private void reportUnreported() {
    if (open) {
      for (FileInbox.Inbound in : inbox.unreported(MAX_ACTIVE_TRANSFERS)) {
        report(in.offer(), in.state(), in.reason(), in);
      }
    }
  }

  /** What the inbox calls when an assembly ends (any thread). */
  public FileInbox.Completion completion() {
    return (id, state, reason) -> {
      completions.add(new String[] {id, state.name(), reason == null ? "" : reason});
      wakeup.run();
    };
  }

  // ------------------------------------------------------------------ requests

  /** Whether this session works on a transfer (something may be asked for). */
  public boolean hasActive() {
    return !active.isEmpty();
  }

  /** Asks for what the window allows: entries first, then missing chunks, in offer order. */
  public void pump(long nowMs) {
    pump(nowMs, Long.MAX_VALUE);
  }

  /**
   * As {@link #pump(long)}, asking for at most {@code maxBytes} of chunks in this call (at least
   * one chunk): what a daily byte budget leaves for files.
   */
  public void pump(long nowMs, long maxBytes) {
    if (!open) {
      return;
    }
    capBytes = maxBytes;
    for (Rx rx : new ArrayList<>(active.values())) {
      if (!window.wantsMore() || capBytes <= 0) {
        return;
      }
      try {
        advance(nowMs, rx);
      } catch (IOException | RuntimeException e) {
        abandon(nowMs, rx, "store_error: " + e.getMessage());
      }
    }
  }

  private void advance(long nowMs, Rx rx) throws IOException {
    if (rx.assembling) {
      return;
    }
    FileInbox.Inbound in = inbox.transfer(rx.id()).orElseThrow();
    if (in.isFinal()) {
      remove(rx.id()); // superseded: what was asked for it no longer counts against the window
      return;
    }
    int chunkCount = rx.offer.getChunkCount();
    if (in.entriesKnown() < chunkCount) {
      requestEntries(rx, in);
      return;
    }
    List<ChunkRange> wanted = new ArrayList<>();
    long bytes = 0;
    for (ChunkRange r : inbox.missing(rx.id(), 2 * FileLimits.MAX_RANGES)) {
      int first = Math.max(r.getFirst(), rx.nextIndex);
      int end = r.getFirst() + r.getCount();
      if (first >= end || rx.requested.get(first)) {
        continue;
      }
      int[] lengths = inbox.lengths(rx.id(), first, end - first);
      long room = window.room();
      int n = 0;
      // The window lets one chunk through even when it is smaller; the budget's cap does not.
      while (n < lengths.length
          && bytes + lengths[n] <= capBytes
          && (bytes == 0 || bytes + lengths[n] <= room)) {
        bytes += lengths[n++];
      }
      if (n == 0) {
        break;
      }
      wanted.add(ChunkRange.newBuilder().setFirst(first).setCount(n).build());
      rx.requested.set(first, first + n);
      rx.nextIndex = first + n;
      if (n < lengths.length || wanted.size() == FileLimits.MAX_RANGES) {
        break; // the window is full
      }
    }
    if (!wanted.isEmpty()) {
      window.requested(nowMs, bytes);
      capBytes = Math.max(0, capBytes - bytes);
      rx.requestedBytes += bytes;
      link.send(
          Frame.newBuilder()
              .setFileRequest(
                  FileRequest.newBuilder()
                      .setTransferId(rx.id())
                      .setChunks(
                          ChunkRanges.newBuilder()
                              .addAllRanges(wanted)
                              .setDeltaBaseVersion(in.deltaBase())))
              .build());
    } else if (rx.requested.isEmpty() && inbox.missing(rx.id(), 1).isEmpty()) {
      rx.assembling = true;
      inbox.complete(rx.id(), completion());
    }
  }

  /** Asks for the next manifest page, or first for a delta plan when an earlier version is held. */
  private void requestEntries(Rx rx, FileInbox.Inbound in) {
    if (rx.entriesRequested) {
      return;
    }
    rx.entriesRequested = true;
    FileRequest.Builder req = FileRequest.newBuilder().setTransferId(rx.id());
    Optional<FileInbox.Held> base =
        in.entriesKnown() == 0 ? inbox.held(rx.offer.getHeader().getPath()) : Optional.empty();
    if (base.isPresent() && base.get().version() != rx.offer.getHeader().getVersion()) {
      req.setDeltaBaseVersion(base.get().version());
    } else {
      int first = in.entriesKnown();
      int count = Math.min(FileLimits.MAX_PAGE_CHUNKS, rx.offer.getChunkCount() - first);
      req.setManifest(ChunkRange.newBuilder().setFirst(first).setCount(count));
    }
    link.send(Frame.newBuilder().setFileRequest(req).build());
  }

  // ------------------------------------------------------------------ answers

  private void onManifest(Rx rx, ManifestPage page) throws TransferFailed {
    FileInbox.Inbound in = inbox.transfer(rx.id()).orElseThrow();
    int n = page.getLengthsCount();
    if (page.getFirst() != in.entriesKnown()
        || n == 0
        || n > FileLimits.MAX_PAGE_CHUNKS
        || page.getFirst() + (long) n > rx.offer.getChunkCount()
        || page.getHashes().size() != n * Manifest.HASH_BYTES) {
      throw new TransferFailed(
          "invalid_file: manifest page ["
              + page.getFirst()
              + ", +"
              + n
              + ") with "
              + page.getHashes().size()
              + " hash bytes does not continue the "
              + in.entriesKnown()
              + " of "
              + rx.offer.getChunkCount()
              + " entries held");
    }
    int[] lengths = new int[n];
    for (int i = 0; i < n; i++) {
      lengths[i] = checkLength(page.getLengths(i));
    }
    inbox.addEntries(rx.id(), page.getFirst(), lengths, page.getHashes().toByteArray(), 0);
    rx.entriesRequested = false;
    if (page.getFirst() + n == rx.offer.getChunkCount()) {
      checkEntriesSize(rx);
    }
  }

  private void onPlan(Rx rx, DeltaPlan plan) throws TransferFailed {
    FileInbox.Held base =
        inbox
            .held(rx.offer.getHeader().getPath())
            .filter(h -> h.version() == plan.getBaseVersion())
            .orElseThrow(
                () ->
                    new TransferFailed(
                        "invalid_file: a delta plan against version "
                            + plan.getBaseVersion()
                            + ", which this side does not hold"));
    int total = rx.offer.getChunkCount();
    int[] lengths = new int[total];
    ByteArrayOutputStream hashes = new ByteArrayOutputStream(total * Manifest.HASH_BYTES);
    byte[] unknown = new byte[Manifest.HASH_BYTES];
    int at = 0;
    for (DeltaRun run : plan.getRunsList()) {
      long copyEnd = (long) run.getCopyFirst() + run.getCopyCount();
      if (copyEnd > base.manifest().chunkCount()
          || at + (long) run.getCopyCount() + run.getNewLengthsCount() > total) {
        throw new TransferFailed("invalid_file: the delta plan leaves the base or the manifest");
      }
      for (int b = run.getCopyFirst(); b < copyEnd; b++) {
        lengths[at++] = base.manifest().length(b);
        hashes.writeBytes(base.manifest().hash(b));
      }
      for (int len : run.getNewLengthsList()) {
        lengths[at++] = checkLength(len);
        hashes.writeBytes(unknown);
      }
    }
    if (at != total) {
      throw new TransferFailed(
          "invalid_file: the delta plan has " + at + " chunks, the offer " + total);
    }
    inbox.addEntries(rx.id(), 0, lengths, hashes.toByteArray(), plan.getBaseVersion());
    rx.entriesRequested = false;
    checkEntriesSize(rx);
  }

  private void onPack(long nowMs, Rx rx, ChunkPack pack, long frameBytes)
      throws IOException, TransferFailed {
    FileInbox.Inbound in = inbox.transfer(rx.id()).orElseThrow();
    List<ChunkRange> ranges = pack.getRangesList();
    if (ranges.isEmpty() || ranges.size() > FileLimits.MAX_RANGES) {
      throw new TransferFailed("invalid_file: a pack with " + ranges.size() + " ranges");
    }
    long raw = 0;
    int previousEnd = -1;
    for (ChunkRange r : ranges) {
      long end = (long) r.getFirst() + r.getCount();
      if (r.getCount() == 0 || r.getFirst() < previousEnd || end > in.entriesKnown()) {
        throw new TransferFailed("invalid_file: pack range " + describe(r) + " is not in order");
      }
      if (rx.requested.nextClearBit(r.getFirst()) < end) {
        throw new TransferFailed("invalid_file: pack range " + describe(r) + " was not asked for");
      }
      for (int len : inbox.lengths(rx.id(), r.getFirst(), r.getCount())) {
        raw += len;
      }
      previousEnd = (int) end;
    }
    if (raw > FileLimits.MAX_PACK_RAW_BYTES) {
      throw new TransferFailed("invalid_file: a pack of " + raw + " bytes decoded");
    }
    byte[] bytes;
    try {
      bytes = PackCodec.decode(pack, (int) raw, dictionary(rx, in, pack));
    } catch (InvalidPackException e) {
      throw new TransferFailed("invalid_pack: " + e.getMessage());
    }
    MessageDigest sha = Manifest.newDigest();
    int offset = 0;
    for (ChunkRange r : ranges) {
      int[] lengths = inbox.lengths(rx.id(), r.getFirst(), r.getCount());
      byte[] expected = inbox.hashes(rx.id(), r.getFirst(), r.getCount());
      byte[] hashes = new byte[r.getCount() * Manifest.HASH_BYTES];
      List<byte[]> chunks = new ArrayList<>(r.getCount());
      for (int i = 0; i < lengths.length; i++) {
        byte[] chunk = Arrays.copyOfRange(bytes, offset, offset + lengths[i]);
        offset += lengths[i];
        byte[] hash = sha.digest(chunk);
        int at = i * Manifest.HASH_BYTES;
        if (!isZero(expected, at) && !Arrays.equals(hash, 0, 32, expected, at, at + 32)) {
          throw new TransferFailed(
              "corrupt_chunk: chunk " + (r.getFirst() + i) + " does not match its SHA-256");
        }
        System.arraycopy(hash, 0, hashes, at, Manifest.HASH_BYTES);
        chunks.add(chunk);
      }
      inbox.putChunks(rx.id(), r.getFirst(), chunks, hashes, frameBytes * lengthOf(lengths) / raw);
      rx.requested.clear(r.getFirst(), r.getFirst() + r.getCount());
    }
    window.delivered(nowMs, raw, frameBytes);
    rx.requestedBytes = Math.max(0, rx.requestedBytes - raw);
  }

  /** The base chunks a PACK_ZSTD_PATCH pack names, read from the held base version. */
  private byte[] dictionary(Rx rx, FileInbox.Inbound in, ChunkPack pack)
      throws IOException, TransferFailed {
    if (pack.getBaseCount() == 0) {
      return null;
    }
    Optional<FileInbox.Held> base =
        inbox.held(rx.offer.getHeader().getPath()).filter(h -> h.version() == in.deltaBase());
    if (in.deltaBase() == 0 || base.isEmpty()) {
      throw new TransferFailed("invalid_file: a pack names base chunks, but no delta base is held");
    }
    Manifest m = base.get().manifest();
    ByteArrayOutputStream dict = new ByteArrayOutputStream();
    for (ChunkRange r : pack.getBaseList()) {
      if ((long) r.getFirst() + r.getCount() > m.chunkCount()) {
        throw new TransferFailed("invalid_file: base range " + describe(r) + " leaves the base");
      }
      for (int b = r.getFirst(); b < r.getFirst() + r.getCount(); b++) {
        if (dict.size() + (long) m.length(b) > FileLimits.MAX_DICTIONARY_BYTES) {
          throw new TransferFailed("invalid_file: a dictionary over the limit");
        }
        dict.writeBytes(inbox.chunk(m.hash(b)));
      }
    }
    return dict.toByteArray();
  }

  // ------------------------------------------------------------------ outcomes

  private void abandon(long nowMs, Rx rx, String reason) {
    remove(rx.id()); // cancelled: what was asked for it will not come
    link.send(
        Frame.newBuilder()
            .setFileRequest(FileRequest.newBuilder().setTransferId(rx.id()).setCancel(true))
            .build());
    fail(nowMs, rx.offer, reason);
  }

  /**
   * Stops working on the older versions of the offer's path that {@link FileInbox#begin}
   * superseded, at once: the sender drops their queued chunks when told, so the bytes asked for
   * them must leave the window now, before the next {@link #pump} finds it full.
   */
  private void dropSuperseded(FileOffer offer) {
    String path = offer.getHeader().getPath();
    for (Rx rx : new ArrayList<>(active.values())) {
      if (rx.offer.getHeader().getPath().equals(path)
          && rx.offer.getHeader().getVersion() < offer.getHeader().getVersion()
          && inbox.transfer(rx.id()).map(FileInbox.Inbound::isFinal).orElse(true)) {
        remove(rx.id());
      }
    }
  }

  /**
   * Stops working on a transfer in this session. The bytes still asked for it leave the window:
   * they will not arrive (a cancelled request), or arrive and are dropped (superseded), and the
   * window must not wait for them, or a small window stays full for the rest of the session.
   */
  private Rx remove(String transferId) {
    Rx rx = active.remove(transferId);
    if (rx != null && rx.requestedBytes > 0) {
      window.released(rx.requestedBytes);
      rx.requestedBytes = 0;
    }
    return rx;
  }

  private void fail(long nowMs, FileOffer offer, String reason) {
    inbox.setState(offer.getTransferId(), FileState.FILE_STATE_FAILED, reason, nowMs);
    FileInbox.Inbound in = inbox.transfer(offer.getTransferId()).orElseThrow();
    report(offer, FileState.FILE_STATE_FAILED, reason, in);
  }

  private void maybeReportProgress(long nowMs, Rx rx) {
    // Compared this way round: nowMs - lastReportMs overflows while lastReportMs is MIN_VALUE.
    if (nowMs - REPORT_INTERVAL_MS >= rx.lastReportMs) {
      rx.lastReportMs = nowMs;
      FileInbox.Inbound in = inbox.transfer(rx.id()).orElseThrow();
      link.send(
          reportFrame(
              rx.offer, FileState.FILE_STATE_DOWNLOADING, "", in.bytesDone(), in.bytesReceived()));
    }
  }

  private void report(FileOffer offer, FileState state, String reason, FileInbox.Inbound in) {
    link.send(reportFrame(offer, state, reason, in.bytesDone(), in.bytesReceived()));
    inbox.reported(offer.getTransferId(), state);
  }

  private static Frame reportFrame(
      FileOffer offer, FileState state, String reason, long bytesDone, long bytesReceived) {
    return Frame.newBuilder()
        .setFileReport(
            FileReport.newBuilder()
                .setTransferId(offer.getTransferId())
                .setState(state)
                .setBytesDone(bytesDone)
                .setBytesReceived(bytesReceived)
                .setReason(reason == null ? "" : reason)
                .setRollout(offer.getRollout()))
        .build();
  }

  // ------------------------------------------------------------------ checks

  /** Why an offer cannot even be recorded, or null. */
  private static String offerProblem(FileOffer offer) {
    try {
      FileVersion.check(offer.getHeader());
    } catch (IllegalArgumentException e) {
      return "bad_offer: " + e.getMessage();
    }
    String id = FileVersion.transferId(offer.getHeader().getPath(), offer.getHeader().getVersion());
    if (!id.equals(offer.getTransferId())) {
      return "bad_offer: transfer id '" + offer.getTransferId() + "' should be '" + id + "'";
    }
    long size = offer.getHeader().getSize();
    if (size > FileLimits.MAX_FILE_BYTES || offer.getChunkCount() > FileLimits.MAX_CHUNKS) {
      return "too_large: " + size + " bytes in " + offer.getChunkCount() + " chunks";
    }
    if ((size == 0) != (offer.getChunkCount() == 0)) {
      return "bad_offer: " + size + " bytes in " + offer.getChunkCount() + " chunks";
    }
    return null;
  }

  private void checkEntriesSize(Rx rx) throws TransferFailed {
    int n = rx.offer.getChunkCount();
    long size = 0;
    for (int len : inbox.lengths(rx.id(), 0, n)) {
      size += len;
    }
    if (size != rx.offer.getHeader().getSize()) {
      throw new TransferFailed(
          "invalid_file: the chunks add up to "
              + size
              + " bytes, the file has "
              + rx.offer.getHeader().getSize());
    }
  }

  private static int checkLength(int len) throws TransferFailed {
    if (len <= 0 || len > FastCdc.Params.MAX_CHUNK_BYTES) {
      throw new TransferFailed("invalid_file: a chunk length of " + len + " bytes");
    }
    return len;
  }

  private static long lengthOf(int[] lengths) {
    long s = 0;
    for (int l : lengths) {
      s += l;
    }
    return s;
  }

  private static boolean isZero(byte[] b, int at) {
    for (int i = at; i < at + Manifest.HASH_BYTES; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static String describe(ChunkRange r) {
    return "[" + r.getFirst() + ", +" + r.getCount() + ")";
  }

  /** A transfer cannot go on; the message is the reported reason. */
  private static final class TransferFailed extends Exception {
    TransferFailed(String message) {
      super(message);
    }
  }
}

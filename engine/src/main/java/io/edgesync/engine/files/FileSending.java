package io.edgesync.engine.files;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.wire.ChunkPack;
import io.edgesync.protocol.wire.ChunkPacks;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.DeltaPlan;
import io.edgesync.protocol.wire.FileData;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileRequest;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.ManifestPage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The sending side of file transfers in one session (cloud: the versions rolled out to a device;
 * edge: its uploads). It offers what its {@link FileOutbox} says is due and answers the receiver's
 * requests: manifest pages, a delta plan against a version the receiver holds, and chunk packs,
 * encoded one frame at a time when the engine lets it send ({@link #sendNext}), so that file data
 * never queues in front of more important frames.
 *
 * <p>A receiver can ask only for transfers offered to it in this session: a device cannot fetch a
 * version that was not rolled out to it by naming it.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
public final class FileSending {
  /** Most offers made per session; more follow as earlier transfers end. */
  static final int MAX_OFFERS = 64;

  /** Decoded bytes per pack: large enough for zstd to find the file's repetitions. */
  static final int PACK_TARGET_RAW_BYTES = 1 << 20;

  /** Room kept in a frame for everything but the packs' payloads. */
  private static final int FRAME_OVERHEAD_BYTES = 16 << 10;

  private final FileOutbox outbox;
  private final FileLink link;
  private final int level;
  private final Set<String> offered = new LinkedHashSet<>();
  private final Map<String, Plan> plans = new HashMap<>();

  /** Manifests of offered transfers this session asked about (bounded by {@link #MAX_OFFERS}). */
  private final Map<String, Manifest> targets = new HashMap<>();

  private final ArrayDeque<Work> queue = new ArrayDeque<>();
  private boolean open;

  /** A version being sent, with the delta plan against the receiver's base when there is one. */
  private record Plan(Manifest target, Manifest base, long baseVersion, DeltaPlan delta) {}

  /** Chunks asked for, not sent yet. */
  private static final class Work {
    final String transferId;
    final ArrayDeque<ChunkRange> ranges;
    final long deltaBase;

    Work(String transferId, List<ChunkRange> ranges, long deltaBase) {
      this.transferId = transferId;
      this.ranges = new ArrayDeque<>(ranges);
      this.deltaBase = deltaBase;
    }
  }

  public FileSending(FileOutbox outbox, FileLink link, int zstdLevel) {
    this.outbox = outbox;
    this.link = link;
    this.level = zstdLevel;
  }

  public void onOpen(long nowMs) {
    open = true;
    offerDue(nowMs);
  }

  public void onClose() {
    open = false;
    offered.clear();
    plans.clear();
    targets.clear();
    queue.clear();
  }

  /** Offers what became due (a rollout admitted the device, an upload was queued). */
  public void offerDue(long nowMs) {
    if (!open) {
      return;
    }
    for (FileOffer offer : outbox.offers(nowMs, MAX_OFFERS)) {
      if (offered.size() >= MAX_OFFERS) {
        return;
      }
      if (offered.add(offer.getTransferId())) {
        link.send(Frame.newBuilder().setFileOffer(offer).build());
      }
    }
  }

  public void onReport(long nowMs, FileReport report) {
    outbox.onReport(report, nowMs);
    switch (report.getState()) {
      case FILE_STATE_INSTALLED, FILE_STATE_FAILED, FILE_STATE_STORED -> {
        offered.remove(report.getTransferId());
        plans.remove(report.getTransferId());
        targets.remove(report.getTransferId());
        queue.removeIf(w -> w.transferId.equals(report.getTransferId()));
        offerDue(nowMs);
      }
      default -> {}
    }
  }

  public void onRequest(long nowMs, FileRequest request) {
    String id = request.getTransferId();
    if (!offered.contains(id)) {
      refuse(id, "not_offered: " + id + " was not offered in this session");
      return;
    }
    Optional<Manifest> target = manifest(id);
    if (target.isEmpty()) {
      refuse(id, "gone: " + id + " is no longer available");
      return;
    }
    switch (request.getWhatCase()) {
      case MANIFEST -> sendManifest(id, target.get(), request.getManifest());
      case DELTA_BASE_VERSION -> sendPlan(id, target.get(), request.getDeltaBaseVersion());
      case CHUNKS -> {
        List<ChunkRange> ranges = request.getChunks().getRangesList();
        if (ranges.size() > FileLimits.MAX_RANGES || !inside(ranges, target.get().chunkCount())) {
          refuse(id, "invalid_file: requested ranges outside the manifest or too many");
          return;
        }
        queue.add(new Work(id, ranges, request.getChunks().getDeltaBaseVersion()));
      }
      case CANCEL -> {
        queue.removeIf(w -> w.transferId.equals(id));
        plans.remove(id);
        targets.remove(id);
      }
      default -> refuse(id, "invalid_file: FileRequest without a request");
    }
  }

  /** Bytes of the next chunk to be sent (decoded), or 0 when nothing waits. */
  public int nextChunkBytes() {
    Work w = queue.peek();
    if (w == null || w.ranges.isEmpty()) {
      return 0;
    }
    return manifest(w.transferId).map(m -> m.length(w.ranges.peek().getFirst())).orElse(1);
  }

  /** Whether chunk data waits to be sent. */
  public boolean hasData() {
    return open && !queue.isEmpty();
  }

  /**
   * Encodes and sends one frame of packs, of at most {@code maxRawBytes} decoded (at least one
   * chunk): the engine's pacing decides how much file data it lets out at once.
   */
  public void sendNext(long nowMs, int maxRawBytes) {
    Work w = queue.peek();
    if (w == null) {
      return;
    }
    try {
      Manifest target = manifest(w.transferId).orElseThrow(() -> new IOException("gone"));
      Plan plan = w.deltaBase == 0 ? null : planFor(w.transferId, target, w.deltaBase);
      if (w.deltaBase != 0 && plan == null) {
        throw new IOException("the delta base version " + w.deltaBase + " is gone");
      }
      int budget = Math.min(maxRawBytes, link.maxFrameBytes() - FRAME_OVERHEAD_BYTES);
      List<ChunkPack> packs = new ArrayList<>();
      int frameRaw = 0;
      while (!w.ranges.isEmpty() && (frameRaw == 0 || frameRaw < budget)) {
        List<ChunkRange> packRanges =
            takeRanges(
                w, target, Math.min(PACK_TARGET_RAW_BYTES, budget - frameRaw), frameRaw == 0);
        if (packRanges.isEmpty()) {
          break;
        }
        ChunkPack pack = encode(target, plan, packRanges);
        packs.add(pack);
        frameRaw += (int) rawBytes(target, packRanges);
      }
      if (w.ranges.isEmpty()) {
        queue.poll();
      }
      link.send(
          Frame.newBuilder()
              .setFileData(
                  FileData.newBuilder()
                      .setTransferId(w.transferId)
                      .setPacks(ChunkPacks.newBuilder().addAllPacks(packs)))
              .build());
    } catch (IOException | RuntimeException e) {
      queue.removeIf(x -> x.transferId.equals(w.transferId));
      refuse(w.transferId, "sender_error: " + e.getMessage());
    }
  }

  // ------------------------------------------------------------------ answers

  private void sendManifest(String id, Manifest m, ChunkRange r) {
    if (r.getCount() == 0
        || r.getCount() > FileLimits.MAX_PAGE_CHUNKS
        || (long) r.getFirst() + r.getCount() > m.chunkCount()) {
      refuse(id, "invalid_file: manifest page outside the manifest");
      return;
    }
    link.send(
        Frame.newBuilder()
            .setFileData(FileData.newBuilder().setTransferId(id).setManifest(page(m, r)))
            .build());
  }

  private static ManifestPage page(Manifest m, ChunkRange r) {
    ManifestPage.Builder page = ManifestPage.newBuilder().setFirst(r.getFirst());
    byte[] hashes = new byte[r.getCount() * Manifest.HASH_BYTES];
    byte[] all = m.hashes();
    System.arraycopy(all, r.getFirst() * Manifest.HASH_BYTES, hashes, 0, hashes.length);
    for (int i = r.getFirst(); i < r.getFirst() + r.getCount(); i++) {
      page.addLengths(m.length(i));
    }
    return page.setHashes(ByteString.copyFrom(hashes)).build();
  }

  private void sendPlan(String id, Manifest target, long baseVersion) {
    Plan plan = planFor(id, target, baseVersion);
    FileData.Builder data = FileData.newBuilder().setTransferId(id);
    if (plan == null || !DeltaPlanner.fitsFrame(plan.delta(), link.maxFrameBytes())) {
      // The base is gone here, or the plan would not fit a frame: the receiver gets the manifest
      // instead and fetches by chunk.
      int n = Math.min(FileLimits.MAX_PAGE_CHUNKS, target.chunkCount());
      data.setManifest(page(target, ChunkRange.newBuilder().setFirst(0).setCount(n).build()));
    } else {
      data.setPlan(plan.delta());
    }
    link.send(Frame.newBuilder().setFileData(data).build());
  }

  private Plan planFor(String id, Manifest target, long baseVersion) {
    Plan p = plans.get(id);
    if (p != null && p.baseVersion() == baseVersion) {
      return p;
    }
    String path = id.substring(0, id.lastIndexOf('@'));
    Optional<Manifest> base = outbox.manifest(path, baseVersion);
    if (base.isEmpty()) {
      return null;
    }
    p =
        new Plan(
            target, base.get(), baseVersion, DeltaPlanner.plan(baseVersion, base.get(), target));
    plans.put(id, p);
    return p;
  }

  /** Takes ranges (split where needed) of at most {@code maxRaw} decoded bytes, or one chunk. */
  private static List<ChunkRange> takeRanges(
      Work w, Manifest target, int maxRaw, boolean atLeastOne) {
    List<ChunkRange> out = new ArrayList<>();
    long raw = 0;
    while (!w.ranges.isEmpty() && out.size() < FileLimits.MAX_RANGES) {
      ChunkRange r = w.ranges.peek();
      int n = 0;
      while (n < r.getCount()
          && (raw + target.length(r.getFirst() + n) <= maxRaw || (atLeastOne && raw == 0))) {
        raw += target.length(r.getFirst() + n);
        n++;
      }
      if (n == 0) {
        break;
      }
      out.add(ChunkRange.newBuilder().setFirst(r.getFirst()).setCount(n).build());
      w.ranges.poll();
      if (n < r.getCount()) {
        w.ranges.addFirst(
            ChunkRange.newBuilder().setFirst(r.getFirst() + n).setCount(r.getCount() - n).build());
        break;
      }
    }
    return out;
  }

  private ChunkPack encode(Manifest target, Plan plan, List<ChunkRange> ranges) throws IOException {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    for (ChunkRange r : ranges) {
      for (int i = r.getFirst(); i < r.getFirst() + r.getCount(); i++) {
        raw.writeBytes(outbox.chunk(target.hash(i)));
      }
    }
    List<ChunkRange> base = List.of();
    byte[] dictionary = null;
    if (plan != null) {
      base =
          DeltaPlanner.dictionaryFor(
              plan.base(), plan.delta(), ranges, FileLimits.MAX_DICTIONARY_BYTES);
      if (!base.isEmpty()) {
        ByteArrayOutputStream dict = new ByteArrayOutputStream();
        for (ChunkRange r : base) {
          for (int i = r.getFirst(); i < r.getFirst() + r.getCount(); i++) {
            dict.writeBytes(outbox.chunk(plan.base().hash(i)));
          }
        }
        dictionary = dict.toByteArray();
      }
    }
    return PackCodec.encode(ranges, raw.toByteArray(), base, dictionary, level);
  }

  // ------------------------------------------------------------------ helpers

  /**
   * The manifest of an offered transfer, read from the outbox once per session: every frame of a
   * transfer needs it, and a store builds it from thousands of rows.
   */
  private Optional<Manifest> manifest(String id) {
    Manifest cached = targets.get(id);
    if (cached != null) {
      return Optional.of(cached);
    }
    int at = id.lastIndexOf('@');
    if (at <= 0) {
      return Optional.empty();
    }
    Optional<Manifest> m;
    try {
      m = outbox.manifest(id.substring(0, at), Long.parseLong(id.substring(at + 1)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    if (m.isPresent() && offered.contains(id)) {
      targets.put(id, m.get());
    }
    return m;
  }

  private void refuse(String id, String reason) {
    link.send(
        Frame.newBuilder()
            .setFileData(FileData.newBuilder().setTransferId(id).setRefusal(reason))
            .build());
  }

  private static boolean inside(List<ChunkRange> ranges, int chunkCount) {
    for (ChunkRange r : ranges) {
      if (r.getCount() == 0 || (long) r.getFirst() + r.getCount() > chunkCount) {
        return false;
      }
    }
    return true;
  }

  private static long rawBytes(Manifest m, List<ChunkRange> ranges) {
    long raw = 0;
    for (ChunkRange r : ranges) {
      raw += m.offset(r.getFirst() + r.getCount()) - m.offset(r.getFirst());
    }
    return raw;
  }
}

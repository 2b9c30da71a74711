package io.edgesync.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.edgesync.engine.files.DeltaPlanner;
import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.FileLimits;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.engine.files.PackCodec;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.ChunkPack;
import io.edgesync.protocol.wire.ChunkPacks;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.ChunkRanges;
import io.edgesync.protocol.wire.DeltaPlan;
import io.edgesync.protocol.wire.FileData;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileMeta;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileRequest;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.ManifestPage;
import io.edgesync.protocol.wire.PackEncoding;
import io.edgesync.security.ReleaseKey;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One file transfer of the files protocol, played out frame by frame on one thread: the sender (the
 * cloud: it holds the new version and every earlier one) and the receiver (a device: it holds an
 * earlier version on disk, or other chunks, or nothing). Every frame is encoded by {@link
 * FrameCodec} and decoded again by the other side, and its bytes are counted; the receiver really
 * rebuilds the file on disk from its base file and the decoded packs and checks its SHA-256 and
 * signature, so the byte count is that of a working exchange.
 *
 * <p>The exchange: FileOffer; then either FileRequest(delta_base_version) and FileData(plan), or
 * FileRequest(manifest) and ManifestPage frames; FileRequest(chunks) frames of at most {@link
 * FileLimits#MAX_RANGES} ranges; FileData(packs) frames of one pack each, at most {@link
 * #PACK_BUDGET_BYTES} decoded; a final FileReport. Not thread safe.
 */
final class FilesExchange {
  /** zstd level of the packs. */
  static final int LEVEL = 3;

  /**
   * Decoded bytes per pack (and per FileData frame): {@link FileLimits#MAX_PACK_RAW_BYTES} less
   * room for the ranges and headers, so that a pack that travels raw still fits the default 4 MiB
   * frame.
   */
  static final int PACK_BUDGET_BYTES = FileLimits.MAX_PACK_RAW_BYTES - (64 << 10);

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** An earlier file the receiver holds whole on disk (and the sender in memory). */
  record Held(long version, Path file, byte[] bytes, Manifest manifest) {}

  /** What one exchange cost. */
  record Result(
      long wireBytes,
      int frames,
      Map<String, Long> bytesByKind,
      Map<PackEncoding, Integer> packs,
      int chunks,
      int sentChunks,
      long sentRawBytes,
      long baseRangeBytes,
      long senderCpuNanos,
      long receiverCpuNanos,
      long senderWallNanos,
      long receiverWallNanos) {}

  private final KeyPair releaseKey;
  private final Map<String, Long> bytesByKind = new LinkedHashMap<>();
  private final Map<PackEncoding, Integer> packs = new EnumMap<>(PackEncoding.class);
  private long wireBytes;
  private long baseRangeBytes; // of ChunkPack.base fields: what naming the dictionaries costs
  private int frames;
  private long senderCpu;
  private long receiverCpu;
  private long senderWall;
  private long receiverWall;
  private long cpuMark;
  private long wallMark;

  FilesExchange(KeyPair releaseKey) {
    this.releaseKey = releaseKey;
  }

  /**
   * Sends {@code target} as {@code path@version} to a receiver holding {@code held} (or nothing),
   * as a delta against it ({@code delta}) or by manifest, the receiver then asking only for chunks
   * it does not hold. The receiver writes the file to {@code out}.
   */
  Result run(String path, long version, byte[] target, Held held, boolean delta, Path out)
      throws IOException, ProtocolException {
    senderTurn();
    Sender sender = new Sender(target, held);
    Receiver receiver = new Receiver(held, delta, out);
    byte[] offer = send("offer", sender.offer(path, version));
    receiverTurn();
    List<byte[]> asks = receiver.onOffer(receive(offer));
    while (!asks.isEmpty()) {
      List<byte[]> answers = new ArrayList<>();
      for (byte[] ask : asks) {
        senderTurn();
        List<Frame> replies = sender.onRequest(receive(ask).getFileRequest());
        for (Frame reply : replies) {
          answers.add(send(reply.getFileData().hasPacks() ? "packs" : "plan/manifest", reply));
        }
      }
      receiverTurn();
      asks = new ArrayList<>();
      for (byte[] answer : answers) {
        asks.addAll(receiver.onData(receive(answer).getFileData()));
      }
    }
    byte[] report = receiver.finish();
    senderTurn();
    FileReport r = receive(report).getFileReport();
    if (r.getState() != FileState.FILE_STATE_INSTALLED) {
      throw new IllegalStateException("transfer failed: " + r.getReason());
    }
    endTurn();
    return new Result(
        wireBytes,
        frames,
        bytesByKind,
        packs,
        sender.manifest.chunkCount(),
        receiver.sentChunks,
        receiver.sentRawBytes,
        baseRangeBytes,
        senderCpu,
        receiverCpu,
        senderWall,
        receiverWall);
  }

  // ---------------------------------------------------------------- the wire and the clocks

  private byte[] send(String kind, Frame frame) {
    byte[] bytes = FrameCodec.encode(frame);
    wireBytes += bytes.length;
    frames++;
    bytesByKind.merge(kind, (long) bytes.length, Long::sum);
    return bytes;
  }

  private static Frame receive(byte[] bytes) throws ProtocolException {
    return FrameCodec.decode(bytes, ProtocolLimits.DEFAULT_MAX_FRAME_BYTES);
  }

  private boolean senderRunning;
  private boolean receiverRunning;

  private void senderTurn() {
    endTurn();
    senderRunning = true;
  }

  private void receiverTurn() {
    endTurn();
    receiverRunning = true;
  }

  /** Adds the time since the last turn began to the side that had it. */
  private void endTurn() {
    long cpu = THREADS.getCurrentThreadCpuTime();
    long wall = System.nanoTime();
    if (senderRunning) {
      senderCpu += cpu - cpuMark;
      senderWall += wall - wallMark;
    } else if (receiverRunning) {
      receiverCpu += cpu - cpuMark;
      receiverWall += wall - wallMark;
    }
    senderRunning = false;
    receiverRunning = false;
    cpuMark = cpu;
    wallMark = wall;
  }

  // ---------------------------------------------------------------- the sender (cloud)

  private final class Sender {
    final byte[] target;
    final Held base;
    final Manifest manifest;
    String transferId;
    DeltaPlan plan;

    Sender(byte[] target, Held base) throws IOException {
      this.target = target;
      this.base = base;
      this.manifest = Manifest.of(new ByteArrayInputStream(target), FastCdc.DEFAULT);
    }

    Frame offer(String path, long version) {
      FileHeader header =
          FileVersion.check(
              FileHeader.newBuilder()
                  .setPath(path)
                  .setVersion(version)
                  .setSize(manifest.size())
                  .setSha256(ByteString.copyFrom(manifest.sha256()))
                  .addMetadata(FileMeta.newBuilder().setKey("board").setValue("gw-4"))
                  .setCreatedAtMs(1_767_225_600_000L)
                  .build());
      transferId = FileVersion.transferId(path, version);
      byte[] signature = ReleaseKey.sign(releaseKey.getPrivate(), FileVersion.signingInput(header));
      return Frame.newBuilder()
          .setFileOffer(
              FileOffer.newBuilder()
                  .setTransferId(transferId)
                  .setHeader(header)
                  .setChunkCount(manifest.chunkCount())
                  .setSignature(ByteString.copyFrom(signature))
                  .setKeyId(ReleaseKey.keyId(releaseKey.getPublic()))
                  .setRollout("rollout-7"))
          .build();
    }

    List<Frame> onRequest(FileRequest request) {
      return switch (request.getWhatCase()) {
        case DELTA_BASE_VERSION -> {
          plan = DeltaPlanner.plan(request.getDeltaBaseVersion(), base.manifest(), manifest);
          if (!DeltaPlanner.fitsFrame(plan, ProtocolLimits.DEFAULT_MAX_FRAME_BYTES)) {
            throw new IllegalStateException("the plan does not fit a frame");
          }
          yield List.of(data(FileData.newBuilder().setPlan(plan)));
        }
        case MANIFEST -> List.of(data(FileData.newBuilder().setManifest(page(request))));
        case CHUNKS -> packs(request.getChunks());
        default -> throw new IllegalStateException("unexpected request " + request.getWhatCase());
      };
    }

    private ManifestPage page(FileRequest request) {
      int first = request.getManifest().getFirst();
      int count = request.getManifest().getCount();
      ManifestPage.Builder page = ManifestPage.newBuilder().setFirst(first);
      byte[] hashes = manifest.hashes();
      for (int i = first; i < first + count; i++) {
        page.addLengths(manifest.length(i));
      }
      return page.setHashes(
              ByteString.copyFrom(hashes, first * Manifest.HASH_BYTES, count * Manifest.HASH_BYTES))
          .build();
    }

    /** The asked chunks in packs of at most the budget, one FileData frame each. */
    private List<Frame> packs(ChunkRanges asked) {
      List<Frame> out = new ArrayList<>();
      List<ChunkRange> ranges = new ArrayList<>();
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      for (ChunkRange r : asked.getRangesList()) {
        for (int t = r.getFirst(); t < r.getFirst() + r.getCount(); t++) {
          int len = manifest.length(t);
          boolean joins = !ranges.isEmpty() && last(ranges) == t;
          if (raw.size() > 0
              && (raw.size() + len > PACK_BUDGET_BYTES
                  || (!joins && ranges.size() == FileLimits.MAX_RANGES))) {
            out.add(pack(ranges, raw.toByteArray(), asked.getDeltaBaseVersion() != 0));
            ranges.clear();
            raw.reset();
            joins = false;
          }
          add(ranges, t, joins);
          raw.write(target, (int) manifest.offset(t), len);
        }
      }
      if (raw.size() > 0) {
        out.add(pack(ranges, raw.toByteArray(), asked.getDeltaBaseVersion() != 0));
      }
      return out;
    }

    private Frame pack(List<ChunkRange> ranges, byte[] raw, boolean delta) {
      List<ChunkRange> dict = List.of();
      byte[] dictionary = null;
      if (delta) {
        dict =
            DeltaPlanner.dictionaryFor(
                base.manifest(), plan, ranges, FileLimits.MAX_DICTIONARY_BYTES);
        dictionary = concat(base.bytes(), base.manifest(), dict);
      }
      ChunkPack pack = PackCodec.encode(List.copyOf(ranges), raw, dict, dictionary, LEVEL);
      packs.merge(pack.getEncoding(), 1, Integer::sum);
      for (ChunkRange r : pack.getBaseList()) {
        baseRangeBytes += CodedOutputStream.computeMessageSize(ChunkPack.BASE_FIELD_NUMBER, r);
      }
      return data(FileData.newBuilder().setPacks(ChunkPacks.newBuilder().addPacks(pack)));
    }

    private Frame data(FileData.Builder body) {
      return Frame.newBuilder().setFileData(body.setTransferId(transferId)).build();
    }
  }

  private static int last(List<ChunkRange> ranges) {
    ChunkRange r = ranges.get(ranges.size() - 1);
    return r.getFirst() + r.getCount();
  }

  private static void add(List<ChunkRange> ranges, int t, boolean joins) {
    if (joins) {
      ChunkRange r = ranges.remove(ranges.size() - 1);
      ranges.add(r.toBuilder().setCount(r.getCount() + 1).build());
    } else {
      ranges.add(ChunkRange.newBuilder().setFirst(t).setCount(1).build());
    }
  }

  private static byte[] concat(byte[] file, Manifest m, List<ChunkRange> ranges) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ChunkRange r : ranges) {
      long from = m.offset(r.getFirst());
      long to = m.offset(r.getFirst() + r.getCount());
      out.write(file, (int) from, (int) (to - from));
    }
    return out.toByteArray();
  }

  // ---------------------------------------------------------------- the receiver (device)

  private final class Receiver {
    final Held held;
    final boolean delta;
    final Path out;
    FileOffer offer;
    int chunkCount;
    int[] lengths;
    byte[] hashes; // known chunk hashes (by manifest), or null in a delta transfer
    int[] fromBase; // delta: the base chunk each target chunk copies, or -1
    Map<ByteBuffer, Integer> heldByHash; // by manifest: base chunks by hash
    FileChannel input;
    FileChannel output;
    final MessageDigest whole = Manifest.newDigest();
    final MessageDigest chunk = Manifest.newDigest();
    int next; // target chunks before this one are written
    int sentChunks;
    long sentRawBytes;

    Receiver(Held held, boolean delta, Path out) {
      this.held = held;
      this.delta = delta;
      this.out = out;
    }

    List<byte[]> onOffer(Frame frame) throws IOException {
      offer = frame.getFileOffer();
      FileHeader header = FileVersion.check(offer.getHeader());
      if (!ReleaseKey.verify(
          releaseKey.getPublic(),
          FileVersion.signingInput(header),
          offer.getSignature().toByteArray())) {
        throw new IllegalStateException("bad signature");
      }
      chunkCount = offer.getChunkCount();
      lengths = new int[chunkCount];
      output =
          FileChannel.open(
              out,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE);
      if (held != null) {
        input = FileChannel.open(held.file(), StandardOpenOption.READ);
      }
      if (delta) {
        return List.of(request(FileRequest.newBuilder().setDeltaBaseVersion(held.version())));
      }
      hashes = new byte[chunkCount * Manifest.HASH_BYTES];
      List<byte[]> asks = new ArrayList<>();
      for (int first = 0; first < chunkCount; first += FileLimits.MAX_PAGE_CHUNKS) {
        int count = Math.min(FileLimits.MAX_PAGE_CHUNKS, chunkCount - first);
        asks.add(
            request(
                FileRequest.newBuilder()
                    .setManifest(ChunkRange.newBuilder().setFirst(first).setCount(count))));
      }
      return asks;
    }

    List<byte[]> onData(FileData data) throws IOException {
      return switch (data.getBodyCase()) {
        case PLAN -> onPlan(data.getPlan());
        case MANIFEST -> onPage(data.getManifest());
        case PACKS -> {
          for (ChunkPack p : data.getPacks().getPacksList()) {
            onPack(p);
          }
          yield List.of();
        }
        default -> throw new IllegalStateException("unexpected " + data.getBodyCase());
      };
    }

    private List<byte[]> onPlan(DeltaPlan plan) {
      DeltaPlanner.check(
          plan,
          held.manifest(),
          FastCdc.DEFAULT.maxBytes(),
          chunkCount,
          offer.getHeader().getSize());
      fromBase = DeltaPlanner.baseIndexes(plan);
      int n = 0;
      for (var run : plan.getRunsList()) {
        for (int i = 0; i < run.getCopyCount(); i++) {
          lengths[n++] = held.manifest().length(run.getCopyFirst() + i);
        }
        for (int len : run.getNewLengthsList()) {
          lengths[n++] = len;
        }
      }
      return ask(DeltaPlanner.newRanges(plan), plan.getBaseVersion());
    }

    private List<byte[]> onPage(ManifestPage page) {
      for (int i = 0; i < page.getLengthsCount(); i++) {
        lengths[page.getFirst() + i] = page.getLengths(i);
      }
      page.getHashes().copyTo(hashes, page.getFirst() * Manifest.HASH_BYTES);
      if (page.getFirst() + page.getLengthsCount() < chunkCount) {
        return List.of();
      }
      // The whole manifest is here: ask for the chunks not held.
      heldByHash = new HashMap<>();
      if (held != null) {
        for (int b = 0; b < held.manifest().chunkCount(); b++) {
          heldByHash.putIfAbsent(ByteBuffer.wrap(held.manifest().hash(b)), b);
        }
      }
      List<ChunkRange> missing = new ArrayList<>();
      for (int t = 0; t < chunkCount; t++) {
        if (holds(t) < 0) {
          add(missing, t, !missing.isEmpty() && last(missing) == t);
        }
      }
      return ask(missing, 0);
    }

    private int holds(int t) {
      Integer b =
          heldByHash.get(ByteBuffer.wrap(hashes, t * Manifest.HASH_BYTES, Manifest.HASH_BYTES));
      return b == null ? -1 : b;
    }

    private List<byte[]> ask(List<ChunkRange> wanted, long baseVersion) {
      List<byte[]> asks = new ArrayList<>();
      for (int i = 0; i < wanted.size(); i += FileLimits.MAX_RANGES) {
        List<ChunkRange> some =
            wanted.subList(i, Math.min(wanted.size(), i + FileLimits.MAX_RANGES));
        asks.add(
            request(
                FileRequest.newBuilder()
                    .setChunks(
                        ChunkRanges.newBuilder()
                            .addAllRanges(some)
                            .setDeltaBaseVersion(baseVersion))));
      }
      return asks;
    }

    private void onPack(ChunkPack pack) throws IOException {
      long expected = 0;
      for (ChunkRange r : pack.getRangesList()) {
        if (r.getFirst() < next || r.getCount() < 1 || r.getFirst() + r.getCount() > chunkCount) {
          throw new IllegalStateException("pack range out of order: " + r);
        }
        for (int t = r.getFirst(); t < r.getFirst() + r.getCount(); t++) {
          expected += lengths[t];
        }
      }
      byte[] dictionary = pack.getBaseCount() == 0 ? null : readBase(pack.getBaseList());
      byte[] raw = PackCodec.decode(pack, (int) expected, dictionary);
      int pos = 0;
      for (ChunkRange r : pack.getRangesList()) {
        for (int t = r.getFirst(); t < r.getFirst() + r.getCount(); t++) {
          copyUntil(t);
          byte[] h = chunk.digest(Arrays.copyOfRange(raw, pos, pos + lengths[t]));
          if (hashes != null
              && !Arrays.equals(
                  h, 0, 32, hashes, t * Manifest.HASH_BYTES, (t + 1) * Manifest.HASH_BYTES)) {
            throw new IllegalStateException("chunk " + t + " does not match its hash");
          }
          write(raw, pos, lengths[t]);
          pos += lengths[t];
          next = t + 1;
          sentChunks++;
        }
      }
      sentRawBytes += raw.length;
    }

    /** Writes the held chunks before target chunk {@code t}, read from the base file. */
    private void copyUntil(int t) throws IOException {
      for (; next < t; next++) {
        int b = fromBase != null ? fromBase[next] : holds(next);
        if (b < 0) {
          throw new IllegalStateException("chunk " + next + " neither held nor sent");
        }
        byte[] buf = new byte[held.manifest().length(b)];
        read(held.manifest().offset(b), buf);
        write(buf, 0, buf.length);
      }
    }

    private byte[] readBase(List<ChunkRange> base) throws IOException {
      Manifest m = held.manifest();
      long total = 0;
      for (ChunkRange r : base) {
        if (r.getFirst() + (long) r.getCount() > m.chunkCount()) {
          throw new IllegalStateException("dictionary range outside the base: " + r);
        }
        total += m.offset(r.getFirst() + r.getCount()) - m.offset(r.getFirst());
      }
      if (total > FileLimits.MAX_DICTIONARY_BYTES) {
        throw new IllegalStateException("dictionary of " + total + " bytes");
      }
      byte[] dict = new byte[(int) total];
      int at = 0;
      for (ChunkRange r : base) {
        int n = (int) (m.offset(r.getFirst() + r.getCount()) - m.offset(r.getFirst()));
        byte[] part = new byte[n];
        read(m.offset(r.getFirst()), part);
        System.arraycopy(part, 0, dict, at, n);
        at += n;
      }
      return dict;
    }

    private void read(long position, byte[] into) throws IOException {
      ByteBuffer b = ByteBuffer.wrap(into);
      while (b.hasRemaining()) {
        if (input.read(b, position + b.position()) < 0) {
          throw new IOException("base file ends early");
        }
      }
    }

    private void write(byte[] bytes, int off, int len) throws IOException {
      whole.update(bytes, off, len);
      ByteBuffer b = ByteBuffer.wrap(bytes, off, len);
      while (b.hasRemaining()) {
        output.write(b);
      }
    }

    byte[] finish() throws IOException {
      copyUntil(chunkCount);
      output.force(false);
      output.close();
      if (input != null) {
        input.close();
      }
      byte[] sha = whole.digest();
      boolean ok = Arrays.equals(sha, offer.getHeader().getSha256().toByteArray());
      if (!ok) {
        throw new IllegalStateException("the rebuilt file's SHA-256 differs from the offer's");
      }
      return request(
          Frame.newBuilder()
              .setFileReport(
                  FileReport.newBuilder()
                      .setTransferId(offer.getTransferId())
                      .setState(FileState.FILE_STATE_INSTALLED)
                      .setBytesDone(offer.getHeader().getSize())
                      .setBytesReceived(
                          wireBytes
                              - bytesByKind.getOrDefault("requests", 0L)
                              - bytesByKind.getOrDefault("chunk requests", 0L))
                      .setRollout(offer.getRollout()))
              .build(),
          "report");
    }

    private byte[] request(FileRequest.Builder r) {
      return request(
          Frame.newBuilder().setFileRequest(r.setTransferId(offer.getTransferId())).build(),
          r.hasChunks() ? "chunk requests" : "requests");
    }

    private byte[] request(Frame f, String kind) {
      return send(kind, f);
    }
  }
}

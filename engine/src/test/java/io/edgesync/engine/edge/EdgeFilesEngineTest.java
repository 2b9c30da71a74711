package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.ChunkRanges;
import io.edgesync.protocol.wire.FileRequest;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.testing.FakeClock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Files through the edge engine: announced in Hello, used only when Welcome accepts them, upload
 * data held back by the daily budget like a stream of priority 8, downloaded bytes counted in it.
 */
class EdgeFilesEngineTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long MIDNIGHT = 1_700_006_400_000L;

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final RecordingEdgeIo io = new RecordingEdgeIo();
  private final InMemoryFileOutbox uploads = new InMemoryFileOutbox(o -> o);
  private final InMemoryFileInbox downloads =
      new InMemoryFileInbox(o -> Optional.empty(), FileState.FILE_STATE_INSTALLED);
  private final SyncPolicy.Builder policy = TestPolicy.builder();
  private EdgeSyncEngine engine;

  EdgeFilesEngineTest() {
    policy.heartbeatIntervalMs(40 * 3_600_000L);
    policy.heartbeatTimeoutMs(80 * 3_600_000L);
  }

  private void start(BandwidthPolicy bandwidth, List<String> welcomeCaps) {
    engine = TestPolicy.engine(policy, bandwidth, outbox, io).withFiles(downloads, uploads);
    engine.start(clock.nowMs());
    engine.onConnected(clock.nowMs());
    engine.onFrame(
        clock.nowMs(),
        TestCloud.frame(TestCloud.welcome(Map.of()).addAllCapabilities(welcomeCaps)));
  }

  private static byte[] random(int bytes) {
    byte[] b = new byte[bytes];
    new SplittableRandom(5).nextBytes(b);
    return b;
  }

  private List<Frame> sent(Frame.BodyCase kind) {
    return io.frames().stream().filter(f -> f.getBodyCase() == kind).toList();
  }

  private Frame requestAllChunks(String id, int chunks) {
    return Frame.newBuilder()
        .setFileRequest(
            FileRequest.newBuilder()
                .setTransferId(id)
                .setChunks(
                    ChunkRanges.newBuilder()
                        .addRanges(ChunkRange.newBuilder().setFirst(0).setCount(chunks))))
        .build();
  }

  @Test
  void filesAreAnnouncedInHello_butUnusedUntilWelcomeAcceptsThem() {
    uploads.add("uploads/boot.log", 1, random(1000), "uploads");
    start(BandwidthPolicy.plain(), List.of());

    assertThat(sent(Frame.BodyCase.HELLO).get(0).getHello().getCapabilitiesList())
        .contains(EdgeFiles.CAPABILITY);
    assertThat(sent(Frame.BodyCase.FILE_OFFER)).isEmpty();
    io.frames().clear();
    engine.onFrame(clock.nowMs(), requestAllChunks("uploads/boot.log@1", 1));
    assertThat(io.disconnects()).singleElement().asString().contains("session without files");
  }

  @Test
  void uploadData_staysWithinTheDailyBudget_andTheRestGoesAtMidnight() {
    var m = uploads.add("uploads/clip.bin", 1, random(400_000), "uploads");
    start(BandwidthPolicy.plain().withDailyBudget(300_000), List.of(EdgeFiles.CAPABILITY));
    assertThat(sent(Frame.BodyCase.FILE_OFFER)).hasSize(1);

    engine.onFrame(clock.nowMs(), requestAllChunks("uploads/clip.bin@1", m.chunkCount()));
    long today = fileDataBytes();
    assertThat(today).isPositive().isLessThan(400_000);
    assertThat(engine.budgetStatus().spentBytes()).isLessThanOrEqualTo(300_000);

    clock.set(MIDNIGHT);
    engine.onTimer(clock.nowMs());
    assertThat(fileDataBytes()).isGreaterThanOrEqualTo(400_000);
  }

  /** Payload bytes of the FileData frames sent so far. */
  private long fileDataBytes() {
    return sent(Frame.BodyCase.FILE_DATA).stream()
        .flatMap(f -> f.getFileData().getPacks().getPacksList().stream())
        .mapToLong(p -> p.getPayload().size())
        .sum();
  }

  @Test
  void uploadData_goesAtOnceWithoutABudget() {
    var m = uploads.add("uploads/clip.bin", 1, random(300_000), "uploads");
    start(BandwidthPolicy.plain(), List.of(EdgeFiles.CAPABILITY));
    engine.onFrame(clock.nowMs(), requestAllChunks("uploads/clip.bin@1", m.chunkCount()));
    long sentRaw = fileDataBytes();
    assertThat(sentRaw).isGreaterThanOrEqualTo(300_000);
  }
}

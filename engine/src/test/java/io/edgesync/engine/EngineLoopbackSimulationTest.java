package io.edgesync.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.engine.edge.TestPolicy;
import io.edgesync.engine.testing.InMemoryCloudStore;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.testing.FakeClock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Both engines wired back to back through an in-memory link, driven by one seed through appends,
 * overflow drops, cut connections and refused connects; then a fault-free phase until everything is
 * acknowledged. Checks DESIGN.md invariant 1 for streams (every appended record reaches the cloud
 * exactly once, in order, unless an explicit gap reported its loss), that nothing the edge
 * considers acknowledged is missing in the cloud at any step, and that an honest run never produces
 * an Error frame. A failure names the seed; the seed replays it exactly.
 */
class EngineLoopbackSimulationTest {
  private static final String DEVICE = "dev-1";
  private static final List<String> STREAMS = List.of("a", "b", "c");

  @Test
  void manySeeds_everyAppendedRecordArrivesExactlyOnceOrAsAReportedGap() {
    for (long seed = 1; seed <= 150; seed++) {
      try {
        new Run(seed).run();
      } catch (AssertionError | RuntimeException e) {
        fail("seed " + seed + ": " + e.getMessage(), e);
      }
    }
  }

  private static final class Run {
    final long seed;
    final SplittableRandom random;
    final FakeClock clock = new FakeClock(1_700_000_000_000L);
    final InMemoryOutbox outbox = new InMemoryOutbox(clock);
    final InMemoryCloudStore store = new InMemoryCloudStore();
    final EdgeSyncEngine engine;
    final List<String> errors = new ArrayList<>();

    // the link
    boolean connectPending;
    boolean open;
    CloudSession session;
    final ArrayDeque<byte[]> toCloud = new ArrayDeque<>();
    final ArrayDeque<byte[]> toEdge = new ArrayDeque<>();
    String closeRequested;
    int sessions;

    Run(long seed) {
      this.seed = seed;
      this.random = new SplittableRandom(seed);
      SyncPolicy.Builder p = TestPolicy.builder();
      p.debounceMs(300);
      p.batchMinRecords(20);
      p.batchMaxAgeMs(2_000);
      p.maxBatchRecords(5);
      p.maxInFlightBatches(3);
      p.backoffInitialMs(100);
      p.backoffMaxMs(5_000);
      p.scheduled(random.nextBoolean());
      p.intervalMs(10_000);
      STREAMS.forEach(s -> outbox.stream(s, random.nextInt(3)));
      engine = new EdgeSyncEngine(p.build(), outbox, new End("edge", toCloud), random.split());
    }

    /** One end of the link: the edge's or the cloud's outputs, carried towards the other end. */
    final class End implements EdgeSyncEngine.Io, CloudSession.Io {
      final String side;
      final ArrayDeque<byte[]> towards;

      End(String side, ArrayDeque<byte[]> towards) {
        this.side = side;
        this.towards = towards;
      }

      @Override
      public void connect() {
        connectPending = true;
      }

      @Override
      public void send(Frame frame) {
        carry(side, frame, towards);
      }

      @Override
      public void disconnect(String reason) {
        closeRequested = reason;
      }

      @Override
      public void close(String reason) {
        closeRequested = reason;
      }
    }

    /** A frame {@code from} one side onto the link towards the other, while the link is open. */
    void carry(String from, Frame frame, ArrayDeque<byte[]> towards) {
      if (frame.hasError()) {
        errors.add(from + " sent " + frame.getError());
      }
      if (open) {
        towards.add(FrameCodec.encode(frame));
      }
    }

    long now() {
      return clock.nowMs();
    }

    void run() {
      engine.start(now());
      for (int step = 0; step < 1_500; step++) {
        step(true);
      }
      for (int step = 0; step < 20_000 && !drained(); step++) {
        if (step % 50 == 0) {
          engine.requestSync(now());
        }
        step(false);
      }
      assertThat(drained()).as("drained after the fault-free phase").isTrue();
      assertThat(errors).isEmpty();
      assertThat(sessions).isGreaterThan(0);
      checkCloudHoldsExactlyWhatWasAppended();
    }

    void step(boolean faults) {
      clock.advance(random.nextInt(0, 150));
      int action = random.nextInt(100);
      if (faults && action < 12) {
        String s = STREAMS.get(random.nextInt(STREAMS.size()));
        outbox.append(s, random.nextInt(1, 8), random.nextInt(0, 40));
        engine.onAppended(now());
      } else if (faults && action < 14) {
        outbox.dropOldest(
            STREAMS.get(random.nextInt(STREAMS.size())),
            random.nextInt(1, 6),
            GapReason.GAP_REASON_QUEUE_FULL);
      } else if (faults && action < 16) {
        close("network cut");
      } else if (action < 55) {
        deliverToCloud();
      } else if (action < 95) {
        deliverToEdge();
      } else {
        engine.requestSync(now());
      }
      if (connectPending && random.nextInt(3) == 0) {
        connectPending = false;
        if (faults && random.nextInt(4) == 0) {
          engine.onDisconnected(now(), "connection refused");
        } else {
          open = true;
          sessions++;
          session = new CloudSession(ServerPolicy.defaults(), store, new End("cloud", toEdge));
          engine.onConnected(now());
        }
      }
      handleClose();
      if (now() >= engine.nextWakeupMs()) {
        engine.onTimer(now());
        handleClose();
      }
      checkAckedIsCommitted();
    }

    void deliverToCloud() {
      byte[] bytes = toCloud.poll();
      if (bytes != null) {
        session.onFrame(now(), bytes);
      }
    }

    void deliverToEdge() {
      byte[] bytes = toEdge.poll();
      if (bytes != null) {
        try {
          engine.onFrame(now(), FrameCodec.decode(bytes, 1 << 24));
        } catch (ProtocolException e) {
          throw new AssertionError("cloud sent an undecodable frame: " + e.getMessage(), e);
        }
      }
    }

    void handleClose() {
      if (closeRequested != null) {
        String reason = closeRequested;
        closeRequested = null;
        close(reason);
      }
    }

    /** Ends the connection; frames still on the wire are lost. */
    void close(String reason) {
      if (open) {
        open = false;
        toCloud.clear();
        toEdge.clear();
        session.onClosed(now());
        engine.onDisconnected(now(), reason);
      } else if (connectPending) {
        connectPending = false;
        engine.onDisconnected(now(), reason);
      }
    }

    boolean drained() {
      for (String s : STREAMS) {
        if (outbox.acked(s) != outbox.lastSequence(s)) {
          return false;
        }
      }
      return true;
    }

    void checkAckedIsCommitted() {
      for (String s : STREAMS) {
        long committed = store.checkpoints(DEVICE).getOrDefault(s, 0L);
        if (outbox.acked(s) > committed) {
          throw new AssertionError(
              "edge holds " + s + " acked up to " + outbox.acked(s) + ", cloud only " + committed);
        }
      }
    }

    void checkCloudHoldsExactlyWhatWasAppended() {
      for (String s : STREAMS) {
        long last = outbox.lastSequence(s);
        assertThat(store.checkpoints(DEVICE).getOrDefault(s, 0L)).as(s).isEqualTo(last);
        List<Record> stored = store.read(DEVICE, s, 0, Integer.MAX_VALUE);
        List<CloudStore.StoredGap> gaps = store.gaps(DEVICE, s);
        long gapped = 0;
        for (CloudStore.StoredGap g : gaps) {
          for (long seq = g.firstSequence(); seq <= g.lastSequence(); seq++) {
            gapped++;
            assertThat(outbox.wasDropped(s, seq))
                .as("%s/%d reported lost but never dropped", s, seq)
                .isTrue();
          }
        }
        for (Record r : stored) {
          assertThat(r).as("%s/%d", s, r.sequence()).isEqualTo(outbox.original(s, r.sequence()));
          assertThat(gaps)
              .as("%s/%d stored and in a gap", s, r.sequence())
              .noneMatch(
                  g -> g.firstSequence() <= r.sequence() && r.sequence() <= g.lastSequence());
        }
        // stored records are in order and unique (TreeMap), so counts prove full coverage
        assertThat(stored.size() + gapped)
            .as("%s: records + gaps cover 1..%d", s, last)
            .isEqualTo(last);
      }
    }
  }
}

package io.edgesync.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.wire.DeviceStatus;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamStatus;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The DeviceStatus frame through the codec (docs/protocol.md "Device status"): every field comes
 * back, a gauge set to 0 stays distinguishable from one left out (the delta's "unchanged"), and the
 * bytes are the ones docs/protocol.md shows.
 */
class DeviceStatusFrameTest {
  @Test
  void aFullReport_roundTrips_withEveryField() throws ProtocolException {
    DeviceStatus status =
        DeviceStatus.newBuilder()
            .setFull(true)
            .addStreams(
                StreamStatus.newBuilder()
                    .setStreamRef(1)
                    .setStream("temp")
                    .setAppended(120)
                    .setAcknowledged(100)
                    .setDropped(5)
                    .setQueued(15)
                    .setQueuedBytes(960)
                    .setOldestUnsentAgeMs(42_000))
            .setRawBytes(1_000_000)
            .setWireBytes(150_000)
            .setBatchesAcked(30)
            .setBatchesFailed(1)
            .setOfflineMs(3_600_000)
            .setOutageRecords(70)
            .setOutageDropped(5)
            .setLastSyncAgeMs(900)
            .addDocCursors(ScopeCursor.newBuilder().setScope("fleet").setVersion(17))
            .setDocsPending(2)
            .build();
    Frame frame = Frame.newBuilder().setStatus(status).build();

    Frame back =
        FrameCodec.decode(FrameCodec.encode(frame), ProtocolLimits.DEFAULT_MAX_FRAME_BYTES);

    assertThat(back.getBodyCase()).isEqualTo(Frame.BodyCase.STATUS);
    assertThat(back.getStatus()).isEqualTo(status);
  }

  @Test
  void aGaugeSetToZero_isKeptApartFromOneLeftOut() throws ProtocolException {
    StreamStatus drained = StreamStatus.newBuilder().setStreamRef(1).setQueued(0).build();
    StreamStatus unchanged = StreamStatus.newBuilder().setStreamRef(2).build();
    Frame frame =
        Frame.newBuilder()
            .setStatus(DeviceStatus.newBuilder().addStreams(drained).addStreams(unchanged))
            .build();

    DeviceStatus back =
        FrameCodec.decode(FrameCodec.encode(frame), ProtocolLimits.DEFAULT_MAX_FRAME_BYTES)
            .getStatus();

    assertThat(back.getStreams(0).hasQueued()).isTrue();
    assertThat(back.getStreams(0).getQueued()).isZero();
    assertThat(back.getStreams(1).hasQueued()).isFalse();
    assertThat(back.getStreams(1).hasOldestUnsentAgeMs()).isFalse();
  }

  @Test
  void aDelta_hasTheBytesOfTheProtocolDoc() {
    // Stream 1 appended 300 and acknowledged 298, its queue is now 2 records; 40 kB raw, 9 kB wire.
    Frame frame =
        Frame.newBuilder()
            .setStatus(
                DeviceStatus.newBuilder()
                    .addStreams(
                        StreamStatus.newBuilder()
                            .setStreamRef(1)
                            .setAppended(300)
                            .setAcknowledged(298)
                            .setQueued(2))
                    .setRawBytes(40_000)
                    .setWireBytes(9_000))
            .build();
    assertThat(HexFormat.of().formatHex(FrameCodec.encode(frame)))
        .isEqualTo("b20113120a080118ac0220aa02300218c0b80220a8467d303f03a9"); // 27 bytes
  }
}

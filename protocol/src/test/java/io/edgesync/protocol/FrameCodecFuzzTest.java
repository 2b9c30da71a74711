package io.edgesync.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated input never makes the codec throw anything but {@link ProtocolException}. A
 * failure prints the seed, the iteration and the input as hex; the seed replays it exactly.
 */
class FrameCodecFuzzTest {
  private static final long SEED = 0x5eed_ed9e_5c0dL;
  private static final int ITERATIONS = 20_000;
  private static final int MAX_FRAME_BYTES = 2048;
  private static final int MAX_RECORDS = 64;

  @Test
  void randomAndMutatedFrames_onlyEverThrowProtocolException() {
    SplittableRandom random = new SplittableRandom(SEED);
    List<byte[]> seeds = validFrames(random);
    Set<ErrorCode> codesSeen = EnumSet.noneOf(ErrorCode.class);
    int decoded = 0;
    int batchesDecoded = 0;

    for (int i = 0; i < ITERATIONS; i++) {
      byte[] input =
          switch (i % 4) {
            case 0 -> randomBytes(random, random.nextInt(0, 80));
            case 1 -> mutate(random, seeds.get(random.nextInt(seeds.size())));
            case 2 -> resealedMutation(random, seeds.get(random.nextInt(seeds.size())));
            default -> oversizedOrNot(random);
          };
      try {
        Frame frame = FrameCodec.decode(input, MAX_FRAME_BYTES);
        decoded++;
        assertThat(frame.getBodyCase()).isNotEqualTo(Frame.BodyCase.BODY_NOT_SET);
        if (frame.hasBatch()) {
          List<Record> records = FrameCodec.records(frame.getBatch(), MAX_RECORDS);
          batchesDecoded++;
          assertThat(records).hasSize(frame.getBatch().getCount());
        }
      } catch (ProtocolException e) {
        codesSeen.add(e.code());
        assertThat(e.getMessage()).isNotBlank();
      } catch (Throwable t) {
        fail(describe(i, input) + " threw " + t, t);
      }
    }

    // The loop must have exercised both the accepting and every rejecting path. Only resealed
    // mutations (a quarter of the inputs) get past the checksum.
    assertThat(decoded).isGreaterThan(ITERATIONS / 40);
    assertThat(batchesDecoded).isPositive();
    assertThat(codesSeen)
        .contains(ErrorCode.MALFORMED_FRAME, ErrorCode.FRAME_TOO_LARGE, ErrorCode.INVALID_BATCH);
  }

  @Test
  void randomBatchPayloads_onlyEverThrowProtocolException() {
    SplittableRandom random = new SplittableRandom(SEED + 1);
    int accepted = 0;
    for (int i = 0; i < ITERATIONS; i++) {
      byte[] payload = randomPayload(random);
      RecordBatch batch =
          RecordBatch.newBuilder()
              .setStream("s")
              .setFirstSequence(random.nextLong(1, 1_000))
              .setCount(random.nextInt(1, 5))
              .setPayload(ByteString.copyFrom(payload))
              .build();
      try {
        List<Record> records = FrameCodec.records(batch, MAX_RECORDS);
        accepted++;
        assertThat(RecordLayout.encode(records)).hasSizeLessThanOrEqualTo(payload.length);
      } catch (ProtocolException e) {
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_BATCH);
      } catch (Throwable t) {
        fail(describe(i, payload) + " (payload, count " + batch.getCount() + ") threw " + t, t);
      }
    }
    assertThat(accepted).isPositive();
  }

  private static String describe(int iteration, byte[] input) {
    return "seed "
        + Long.toHexString(SEED)
        + " iteration "
        + iteration
        + " input "
        + HexFormat.of().formatHex(input);
  }

  private static List<byte[]> validFrames(SplittableRandom random) {
    List<byte[]> frames = new ArrayList<>();
    for (int n = 1; n <= 5; n++) {
      List<Record> records = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        records.add(new Record(10 + i, random.nextLong(), randomBytes(random, n * 3)));
      }
      frames.add(
          FrameCodec.encode(
              Frame.newBuilder().setBatch(FrameCodec.batch("stream-" + n, records)).build()));
    }
    frames.add(
        FrameCodec.encode(
            Frame.newBuilder()
                .setHello(
                    Hello.newBuilder()
                        .setProtocolVersion(1)
                        .setDeviceId("dev")
                        .addCheckpoints(
                            StreamCheckpoint.newBuilder().setStream("a").setSequence(3)))
                .build()));
    frames.add(
        FrameCodec.encode(
            Frame.newBuilder().setWelcome(Welcome.newBuilder().setProtocolVersion(1)).build()));
    frames.add(
        FrameCodec.encode(
            Frame.newBuilder()
                .setGap(Gap.newBuilder().setStream("a").setFirstSequence(1).setLastSequence(9))
                .build()));
    frames.add(FrameCodec.encode(Frames.ack("a", 5)));
    frames.add(FrameCodec.encode(Frames.heartbeat(123, true)));
    return frames;
  }

  private static byte[] mutate(SplittableRandom random, byte[] original) {
    byte[] b = original.clone();
    int edits = random.nextInt(1, 4);
    for (int e = 0; e < edits && b.length > 0; e++) {
      switch (random.nextInt(4)) {
        case 0 -> b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        case 1 -> b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
        case 2 -> b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
        default -> {
          byte[] longer = java.util.Arrays.copyOf(b, b.length + random.nextInt(1, 8));
          for (int k = b.length; k < longer.length; k++) {
            longer[k] = (byte) random.nextInt(256);
          }
          b = longer;
        }
      }
    }
    return b;
  }

  /**
   * Mutates the frame's body and appends a fresh checksum, as a buggy or hostile peer would: the
   * checksum passes, so decoding goes past it into the protobuf and the batch layout.
   */
  private static byte[] resealedMutation(SplittableRandom random, byte[] sealed) {
    byte[] body = java.util.Arrays.copyOf(sealed, sealed.length - FrameCodec.TRAILER_BYTES);
    return FrameCodec.withChecksum(mutate(random, body));
  }

  private static byte[] oversizedOrNot(SplittableRandom random) {
    return randomBytes(random, MAX_FRAME_BYTES - 2 + random.nextInt(5));
  }

  /** Mostly well-formed record layouts with a few corrupt bytes, so decoding gets deep. */
  private static byte[] randomPayload(SplittableRandom random) {
    List<Record> records = new ArrayList<>();
    int n = random.nextInt(1, 5);
    for (int i = 0; i < n; i++) {
      records.add(new Record(i + 1, random.nextLong(), randomBytes(random, random.nextInt(6))));
    }
    byte[] bytes = RecordLayout.encode(records);
    if (random.nextInt(4) == 0) {
      return bytes;
    }
    return random.nextBoolean() ? mutate(random, bytes) : randomBytes(random, bytes.length + 11);
  }

  private static byte[] randomBytes(SplittableRandom random, int length) {
    byte[] b = new byte[length];
    random.nextBytes(b);
    return b;
  }
}

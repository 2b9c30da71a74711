package io.edgesync.protocol;

import com.google.protobuf.InvalidProtocolBufferException;
import io.edgesync.protocol.wire.Codec;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import java.util.List;

/**
 * Turns frames into bytes and back, enforcing the frame size limit and the structural rules every
 * frame must obey. Stateless and thread safe. Every failure is a {@link ProtocolException} whose
 * message names the exact problem; no other exception escapes {@link #decode}.
 */
public final class FrameCodec {
  private FrameCodec() {}

  public static byte[] encode(Frame frame) {
    return frame.toByteArray();
  }

  /**
   * Parses one frame.
   *
   * @param maxFrameBytes the negotiated limit; frames above it are rejected unparsed
   */
  public static Frame decode(byte[] bytes, int maxFrameBytes) throws ProtocolException {
    if (bytes.length > maxFrameBytes) {
      throw new ProtocolException(
          ErrorCode.FRAME_TOO_LARGE,
          "frame of " + bytes.length + " bytes exceeds the maximum of " + maxFrameBytes + " bytes");
    }
    Frame frame;
    try {
      frame = Frame.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ProtocolException(
          ErrorCode.MALFORMED_FRAME, "frame is not a valid protobuf Frame: " + e.getMessage());
    } catch (RuntimeException e) {
      throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "frame could not be parsed: " + e);
    }
    if (frame.getBodyCase() == Frame.BodyCase.BODY_NOT_SET) {
      throw new ProtocolException(
          ErrorCode.MALFORMED_FRAME,
          bytes.length == 0 ? "empty frame" : "frame has no known body (unknown message type?)");
    }
    return frame;
  }

  /** Builds a batch frame body for consecutive records (at least one) of one stream. */
  public static RecordBatch batch(String stream, List<Record> records) {
    byte[] payload = RecordLayout.encode(records);
    return RecordBatch.newBuilder()
        .setStream(stream)
        .setFirstSequence(records.get(0).sequence())
        .setCount(records.size())
        .setCodec(Codec.CODEC_NONE)
        .setPayload(com.google.protobuf.ByteString.copyFrom(payload))
        .setRawBytes(payload.length)
        .build();
  }

  /**
   * Validates a batch and decodes its records.
   *
   * @throws ProtocolException INVALID_BATCH naming the field at fault
   */
  public static List<Record> records(RecordBatch batch, int maxRecordsPerBatch)
      throws ProtocolException {
    if (!ProtocolLimits.isValidStreamName(batch.getStream())) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH,
          "invalid stream name '"
              + batch.getStream()
              + "': must match "
              + ProtocolLimits.STREAM_NAME_PATTERN);
    }
    // uint64 on the wire: values of 2^63 and above arrive negative and are out of range too.
    if (batch.getFirstSequence() < 1) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH,
          "first_sequence must be within 1.."
              + Long.MAX_VALUE
              + ", was "
              + Long.toUnsignedString(batch.getFirstSequence()));
    }
    if (batch.getCount() < 1 || batch.getCount() > maxRecordsPerBatch) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH,
          "batch count "
              + Integer.toUnsignedString(batch.getCount())
              + " outside 1.."
              + maxRecordsPerBatch);
    }
    if (batch.getFirstSequence() - 1 > Long.MAX_VALUE - batch.getCount()) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH,
          "batch of "
              + batch.getCount()
              + " records from first_sequence "
              + batch.getFirstSequence()
              + " runs past the maximum sequence "
              + Long.MAX_VALUE);
    }
    if (batch.getCodec() != Codec.CODEC_NONE) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH, "unsupported codec " + batch.getCodecValue());
    }
    return RecordLayout.decode(
        batch.getPayload().toByteArray(), batch.getFirstSequence(), batch.getCount());
  }
}

package io.edgesync.protocol;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.edgesync.protocol.wire.Codec;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Turns frames into bytes and back, enforcing the frame size limit, the checksum and the structural
 * rules every frame must obey. Stateless and thread safe. Every failure is a {@link
 * ProtocolException} whose message names the exact problem; no other exception escapes {@link
 * #decode}.
 *
 * <p>On the wire a frame is the serialized {@link Frame} followed by a 5-byte trailer: the tag of
 * field 15 ({@code crc32c}, fixed32: byte {@code 0x7D}) and the CRC-32C of every byte before the
 * trailer, little-endian. Protobuf parsers read the trailer as an ordinary field; this codec checks
 * it before parsing anything else, so a corrupted frame is refused as a whole.
 */
public final class FrameCodec {
  /** The trailer's tag byte: field 15, wire type 5 (fixed32). */
  static final byte CRC_TAG = (byte) ((Frame.CRC32C_FIELD_NUMBER << 3) | 5);

  /** Bytes the checksum trailer adds to every frame. */
  public static final int TRAILER_BYTES = 5;

  private FrameCodec() {}

  /**
   * Serializes a frame and appends its checksum trailer (a {@code crc32c} set on it is ignored).
   */
  public static byte[] encode(Frame frame) {
    if (frame.getCrc32C() != 0) {
      frame = frame.toBuilder().clearCrc32C().build();
    }
    int n = frame.getSerializedSize();
    byte[] out = new byte[n + TRAILER_BYTES];
    CodedOutputStream cos = CodedOutputStream.newInstance(out, 0, n);
    try {
      frame.writeTo(cos);
    } catch (IOException e) {
      throw new IllegalStateException("serializing a frame into an exactly sized array", e);
    }
    cos.checkNoSpaceLeft();
    writeTrailer(out, n);
    return out;
  }

  /**
   * Appends the checksum trailer to bytes that are already a serialized {@link Frame} (or meant to
   * look like one): for tools and tests that craft raw frames.
   */
  public static byte[] withChecksum(byte[] frameBytes) {
    byte[] out = Arrays.copyOf(frameBytes, frameBytes.length + TRAILER_BYTES);
    writeTrailer(out, frameBytes.length);
    return out;
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
    if (bytes.length == 0) {
      throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "empty frame");
    }
    int n = bytes.length - TRAILER_BYTES;
    if (n < 0 || bytes[n] != CRC_TAG) {
      throw new ProtocolException(
          ErrorCode.MALFORMED_FRAME,
          "frame of "
              + bytes.length
              + " bytes does not end with its checksum (field 15 crc32c, tag 0x7D, as the last 5"
              + " bytes)");
    }
    int expected = crc32c(bytes, n);
    int stated =
        (bytes[n + 1] & 0xff)
            | (bytes[n + 2] & 0xff) << 8
            | (bytes[n + 3] & 0xff) << 16
            | (bytes[n + 4] & 0xff) << 24;
    if (stated != expected) {
      throw new ProtocolException(
          ErrorCode.MALFORMED_FRAME,
          "frame checksum mismatch: CRC-32C of its "
              + n
              + " bytes is "
              + String.format("%08x", expected)
              + " but the frame says "
              + String.format("%08x", stated)
              + " (corrupted in transit?)");
    }
    if (n == 0) {
      throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "empty frame");
    }
    Frame frame;
    try {
      frame = Frame.parseFrom(ByteBuffer.wrap(bytes, 0, n));
    } catch (InvalidProtocolBufferException e) {
      throw new ProtocolException(
          ErrorCode.MALFORMED_FRAME, "frame is not a valid protobuf Frame: " + e.getMessage());
    } catch (RuntimeException e) {
      throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "frame could not be parsed: " + e);
    }
    if (frame.getBodyCase() == Frame.BodyCase.BODY_NOT_SET) {
      throw new ProtocolException(
          ErrorCode.MALFORMED_FRAME, "frame has no known body (unknown message type?)");
    }
    return frame;
  }

  private static void writeTrailer(byte[] out, int n) {
    int crc = crc32c(out, n);
    out[n] = CRC_TAG;
    out[n + 1] = (byte) crc;
    out[n + 2] = (byte) (crc >>> 8);
    out[n + 3] = (byte) (crc >>> 16);
    out[n + 4] = (byte) (crc >>> 24);
  }

  private static int crc32c(byte[] bytes, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, length);
    return (int) crc.getValue();
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

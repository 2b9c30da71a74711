package io.edgesync.protocol.codec;

/**
 * One encoded batch: the codec that was chosen, the bytes for {@code RecordBatch.payload}, and
 * {@code rawBytes}, the size of the same records in the uncompressed record layout (for {@code
 * RecordBatch.raw_bytes}). Immutable; the payload array is not copied.
 */
public record EncodedBatch(Codec codec, byte[] payload, int rawBytes) {
  @Override
  public String toString() {
    return "EncodedBatch[" + codec + ", " + payload.length + " of " + rawBytes + " bytes]";
  }
}

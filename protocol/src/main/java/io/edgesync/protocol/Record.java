package io.edgesync.protocol;

import java.util.Arrays;

/**
 * One stream record: its per-stream sequence number, the wall-clock time at which the edge accepted
 * it, and its opaque payload bytes (JSON in practice). Immutable; the payload array is not copied,
 * so callers must not modify it after handing it over.
 */
public record Record(long sequence, long originMs, byte[] payload) {
  @Override
  public boolean equals(Object o) {
    return o instanceof Record r
        && r.sequence == sequence
        && r.originMs == originMs
        && Arrays.equals(r.payload, payload);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(sequence) * 31 + Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "Record[seq=" + sequence + ", originMs=" + originMs + ", " + payload.length + " bytes]";
  }
}

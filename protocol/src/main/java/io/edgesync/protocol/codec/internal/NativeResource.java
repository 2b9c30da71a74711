package io.edgesync.protocol.codec.internal;

/** A codec part that holds native zstd memory: closing frees it and cannot fail. */
public interface NativeResource extends AutoCloseable {
  @Override
  void close();

  /** Closes each of {@code parts} that is not null (a part a codec has not needed yet). */
  static void closeAll(NativeResource... parts) {
    for (NativeResource p : parts) {
      if (p != null) {
        p.close();
      }
    }
  }
}

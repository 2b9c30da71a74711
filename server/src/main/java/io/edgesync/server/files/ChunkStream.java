package io.edgesync.server.files;

import io.edgesync.support.files.ChunkStorage;
import java.io.IOException;
import java.io.InputStream;
import java.util.HexFormat;
import java.util.List;

/**
 * A file read back from its chunks, in order, a page of hashes at a time: at most one chunk and one
 * page of hashes in memory, whatever the file's size. Every chunk is verified by the chunk store on
 * the way out; a missing or damaged one ends the stream with an {@link IOException}. Not thread
 * safe.
 */
final class ChunkStream extends InputStream {
  /** Hashes of chunks {@code [first, first + count)}, 32 bytes each. */
  interface Pages {
    List<byte[]> hashes(int first, int count);
  }

  private static final int PAGE_CHUNKS = 1024;

  private final ChunkStorage chunks;
  private final Pages pages;
  private final int chunkCount;
  private List<byte[]> page = List.of();
  private int pageFirst;
  private int next;
  private byte[] current = new byte[0];
  private int at;

  ChunkStream(ChunkStorage chunks, int chunkCount, Pages pages) {
    this.chunks = chunks;
    this.chunkCount = chunkCount;
    this.pages = pages;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (at == current.length) {
      if (next == chunkCount) {
        return -1;
      }
      current = nextChunk();
      at = 0;
    }
    int n = Math.min(len, current.length - at);
    System.arraycopy(current, at, b, off, n);
    at += n;
    return n;
  }

  private byte[] nextChunk() throws IOException {
    if (next - pageFirst >= page.size()) {
      pageFirst = next;
      page = pages.hashes(next, Math.min(PAGE_CHUNKS, chunkCount - next));
      if (page.isEmpty()) {
        throw new IOException("chunk " + next + " of " + chunkCount + " has no entry");
      }
    }
    String hex = HexFormat.of().formatHex(page.get(next - pageFirst));
    byte[] data =
        chunks
            .get(hex)
            .orElseThrow(() -> new IOException("chunk " + hex + " is missing from the store"));
    next++;
    return data;
  }
}

package io.edgesync.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;

/**
 * Counts the bytes read through it and draws a progress bar on {@code out} ("[#####.....] 12.3 MiB
 * / 64.0 MiB 19% 8.1 MiB/s"), at most every {@value #REDRAW_MS} ms and once at the end. Not thread
 * safe (one reader).
 */
final class ProgressStream extends FilterInputStream {
  private static final long REDRAW_MS = 200;
  private static final int BAR_CELLS = 30;

  private final long total;
  private final PrintStream out;
  private final long startNanos = System.nanoTime();
  private long done;
  private long drawnAtMs = -REDRAW_MS;

  ProgressStream(InputStream in, long total, PrintStream out) {
    super(in);
    this.total = total;
    this.out = out;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    count(b < 0 ? -1 : 1);
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = super.read(b, off, len);
    count(n);
    return n;
  }

  private void count(int n) {
    if (n > 0) {
      done += n;
    }
    long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
    if (n < 0 || done == total || elapsedMs - drawnAtMs >= REDRAW_MS) {
      drawnAtMs = elapsedMs;
      out.print("\r" + line(done, total, elapsedMs));
      out.flush();
    }
  }

  /** The bar for {@code done} of {@code total} bytes after {@code elapsedMs}. */
  static String line(long done, long total, long elapsedMs) {
    int percent = total == 0 ? 100 : (int) (100 * done / total);
    int cells = total == 0 ? BAR_CELLS : (int) (BAR_CELLS * done / total);
    long rate = elapsedMs == 0 ? 0 : done * 1000 / elapsedMs;
    return "["
        + "#".repeat(cells)
        + ".".repeat(BAR_CELLS - cells)
        + "] "
        + RemoteCommand.bytes(done)
        + " / "
        + RemoteCommand.bytes(total)
        + " "
        + percent
        + "% "
        + RemoteCommand.bytes(rate)
        + "/s";
  }
}

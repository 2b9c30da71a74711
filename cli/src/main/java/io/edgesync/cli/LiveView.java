package io.edgesync.cli;

import java.io.PrintStream;

/**
 * Redraws a view every {@code intervalMs}: {@code edgesync status --watch}. On a terminal each
 * frame clears the screen first (ANSI: cursor home, erase display), so the view stays in place;
 * when the output is a pipe or a file, frames follow each other, each after a line naming its time,
 * so a log of them reads in order. Ctrl-C ends it: the JVM's shutdown runs {@link #restore}, which
 * shows the cursor again and ends the line, so the shell prompt comes back clean. Not thread safe
 * (one caller).
 */
final class LiveView {
  static final String CLEAR = "\u001b[H\u001b[2J";
  static final String HIDE_CURSOR = "\u001b[?25l";
  static final String SHOW_CURSOR = "\u001b[?25h";

  /** Draws one frame; returns false to stop (an error was printed). */
  interface Frame {
    boolean draw(StringBuilder out) throws Exception;
  }

  private final PrintStream out;
  private final boolean terminal;
  private final boolean headers;
  private final long intervalMs;
  private final long iterations; // 0: until interrupted

  /**
   * {@code terminal}: redraw in place; else {@code headers}: a line naming the time before each
   * frame.
   */
  LiveView(PrintStream out, boolean terminal, boolean headers, long intervalMs, long iterations) {
    if (intervalMs < 100) {
      throw new IllegalArgumentException("--interval-ms must be at least 100, was " + intervalMs);
    }
    if (iterations < 0) {
      throw new IllegalArgumentException(
          "--iterations must be 0 (no end) or more, was " + iterations);
    }
    this.out = out;
    this.terminal = terminal;
    this.headers = headers;
    this.intervalMs = intervalMs;
    this.iterations = iterations;
  }

  /** Draws frames until {@code iterations} were drawn or a frame fails; the exit code. */
  int run(Frame frame) throws Exception {
    Thread restore = new Thread(this::restore);
    if (terminal) {
      out.print(HIDE_CURSOR);
      Runtime.getRuntime().addShutdownHook(restore); // Ctrl-C
    }
    try {
      for (long i = 1; iterations == 0 || i <= iterations; i++) {
        StringBuilder text = new StringBuilder();
        boolean ok = frame.draw(text);
        if (terminal && ok) { // a failed frame's error (printed already) stays on the screen
          out.print(CLEAR);
        } else if (headers) {
          out.print("--- " + java.time.Instant.now() + "\n");
        }
        out.print(text);
        out.flush();
        if (!ok) {
          return 1;
        }
        if (iterations == 0 || i < iterations) {
          Thread.sleep(intervalMs);
        }
      }
      return 0;
    } finally {
      if (terminal) {
        restore();
        try {
          Runtime.getRuntime().removeShutdownHook(restore);
        } catch (IllegalStateException e) {
          // Ctrl-C came while the last frame was drawn: the hook runs anyway, harmlessly
        }
      }
    }
  }

  private void restore() {
    out.print(SHOW_CURSOR);
    out.flush();
  }
}

package io.edgesync.cli;

/**
 * One line of a progress bar in counted units ("[#####.....] 1200 / 5000 records 24% 800
 * records/s"); {@link ProgressStream} draws the byte version. Stateless.
 */
final class ProgressBar {
  static final int BAR_CELLS = 30;

  private ProgressBar() {}

  /** The bar for {@code done} of {@code total} {@code unit} after {@code elapsedMs}. */
  static String line(long done, long total, long elapsedMs, String unit) {
    long shown = Math.max(0, Math.min(done, total)); // a stream gone between polls: not below 0
    int percent = total <= 0 ? 100 : (int) (100 * shown / total);
    int cells = total <= 0 ? BAR_CELLS : (int) (BAR_CELLS * shown / total);
    long rate = elapsedMs == 0 ? 0 : done * 1000 / elapsedMs;
    return "["
        + "#".repeat(cells)
        + ".".repeat(BAR_CELLS - cells)
        + "] "
        + done
        + " / "
        + total
        + " "
        + unit
        + " "
        + percent
        + "% "
        + rate
        + " "
        + unit
        + "/s";
  }
}

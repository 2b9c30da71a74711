package io.edgesync.sim;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one seed.
 *
 * @param failure what went wrong, or null if every check passed
 * @param traceHash a hash over the whole trace: the same seed must give the same hash
 * @param traceTail the last trace lines (what led to a failure)
 * @param counters what the run exercised (faults, drops, late frames, events, simulated time)
 * @param replayOptions what the replay command adds after the seed ({@code " --files"}), or ""
 */
public record SimResult(
    long seed,
    String failure,
    long traceHash,
    long traceLines,
    List<String> traceTail,
    Map<String, Long> counters,
    String replayOptions) {

  public boolean passed() {
    return failure == null;
  }

  /** The report printed for a failed seed: seed, failure, the steps before it, how to replay. */
  public String report() {
    StringBuilder sb = new StringBuilder();
    sb.append("SEED ")
        .append(seed)
        .append(" FAILED: ")
        .append(failure)
        .append('\n')
        .append("last ")
        .append(traceTail.size())
        .append(" of ")
        .append(traceLines)
        .append(" trace lines (simulated ms since start, event):\n");
    for (String line : traceTail) {
      sb.append("  ").append(line).append('\n');
    }
    sb.append("replay: java -jar sim/target/edgesync-sim.jar --seed ")
        .append(seed)
        .append(replayOptions)
        .append(" --trace\n");
    return sb.toString();
  }
}

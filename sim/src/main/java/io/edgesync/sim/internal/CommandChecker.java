package io.edgesync.sim.internal;

import io.edgesync.engine.commands.CommandStore;
import java.util.HashMap;
import java.util.Map;

/**
 * Commands: a command runs at most once per id and never after its deadline (both checked by the
 * {@link DocLedger} when a handler takes it); after healing every command is in a final state on
 * the cloud and the edges have nothing left to run or report; the cloud's final state is what
 * happened on the device: {@code succeeded} or {@code failed} only for a command the device ran and
 * finished that way (a command running at a crash is reported failed), {@code expired} only for one
 * it never ran.
 */
final class CommandChecker implements Checker {
  private long evaluatedAtProgress = -1;
  private String notConverged = "not evaluated yet";

  @Override
  public String name() {
    return "commands";
  }

  @Override
  public boolean converged(World world) {
    if (world.downNode() != null) {
      return false;
    }
    long progress = world.docLedger().progress();
    if (progress != evaluatedAtProgress) {
      evaluatedAtProgress = progress;
      notConverged = unsettled(world);
    }
    return notConverged == null;
  }

  @Override
  public String progress(World world) {
    return notConverged == null ? "settled" : notConverged;
  }

  private static String unsettled(World world) {
    for (CommandStore.StoredCommand c : cloudCommands(world).values()) {
      if (!c.isFinal()) {
        return c.id() + " is " + c.state() + " on the cloud";
      }
    }
    for (SimEdge e : world.edges()) {
      long n = e.commandsUnsettled();
      if (n > 0) {
        return e.deviceId() + " has " + n + " commands not run or not confirmed";
      }
    }
    return null;
  }

  private static Map<String, CommandStore.StoredCommand> cloudCommands(World world) {
    Map<String, CommandStore.StoredCommand> out = new HashMap<>();
    CommandStore store = world.cloud().rawCommands();
    long now = world.cloud().nowMs();
    for (SimEdge e : world.edges()) {
      for (CommandStore.StoredCommand c : store.commands(e.deviceId(), 1_000_000, now)) {
        out.put(c.id(), c);
      }
    }
    return out;
  }

  @Override
  public void atEnd(World world) {
    String u = unsettled(world);
    if (u != null) {
      throw new SimFailure("commands not settled at the end: " + u);
    }
    DocLedger ledger = world.docLedger();
    Map<String, CommandStore.StoredCommand> cloud = cloudCommands(world);
    for (DocLedger.Cmd cmd : ledger.commands().values()) {
      CommandStore.StoredCommand c = cloud.get(cmd.id());
      if (c == null) {
        throw new SimFailure("command " + cmd.id() + " for " + cmd.device() + " is lost");
      }
      int runs = ledger.runs(cmd.id());
      String outcome = ledger.edgeOutcome(cmd.id());
      boolean consistent =
          switch (c.state()) {
            case CommandStore.SUCCEEDED, CommandStore.FAILED ->
                runs == 1 && c.state().equals(outcome);
            case CommandStore.EXPIRED -> runs == 0;
            default -> false;
          };
      if (!consistent) {
        throw new SimFailure(
            "command "
                + cmd.id()
                + " (ttl "
                + cmd.ttlMs()
                + " ms) is "
                + c.state()
                + " on the cloud"
                + (c.error() == null ? "" : " (" + c.error() + ")")
                + " but "
                + cmd.device()
                + (runs == 0 ? " never ran it" : " ran it: " + outcome));
      }
      world.stats().add("commands." + c.state(), 1);
    }
  }
}

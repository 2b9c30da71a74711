package io.edgesync.agent.internal.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.agent.PendingCommand;
import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command inbox against a real SQLite file: taking, expiry, restarts, redelivery. */
class LocalCommandInboxTest {
  @TempDir Path dir;

  private DocsFile open() throws Exception {
    return new DocsFile(
        dir.resolve("edgesync-docs.db"), "d1", Set.of("cfg"), 65_536, 300_000, true, () -> 5_000);
  }

  private static Command command(String id, long ttlMs) {
    return Command.newBuilder()
        .setId(id)
        .setName("job")
        .setPayload(ByteString.copyFromUtf8("{}"))
        .setTtlRemainingMs(ttlMs)
        .build();
  }

  /**
   * Regression (found by the simulator, seeds 22 and 189): a command whose deadline passed while it
   * waited was marked expired by takeCommand without telling anyone, so its EXPIRED status waited
   * for the next reconnect; on a healthy connection the cloud showed it delivered forever.
   */
  @Test
  void commandExpiredWhenTaken_callsTheCommandListener_soItsStatusIsSentWithoutAReconnect()
      throws Exception {
    try (DocsFile file = open()) {
      LocalCommandInbox inbox = file.inbox();
      AtomicInteger calls = new AtomicInteger();
      inbox.setCommandListener(calls::incrementAndGet);
      inbox.received(command("c1", 100), 1_000);
      assertThat(calls).hasValue(1);

      // A handler for other commands looks: nothing expired yet, nothing to say.
      assertThat(inbox.takeCommand(Set.of("other"), Set.of(), 1_050)).isNull();
      assertThat(calls).hasValue(1);
      // Its deadline passes before any handler takes it.
      assertThat(inbox.takeCommand(null, Set.of(), 1_100)).isNull();

      assertThat(calls).hasValue(2);
      assertThat(inbox.commandState("c1")).isEqualTo("expired");
      assertThat(inbox.unconfirmed())
          .extracting(CommandStatus::getId, CommandStatus::getState)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("c1", CommandState.COMMAND_EXPIRED));
    }
  }

  @Test
  void commandTakenBeforeItsDeadline_runsOnce_andARedeliveryReportsItsOutcome() throws Exception {
    try (DocsFile file = open()) {
      LocalCommandInbox inbox = file.inbox();
      inbox.received(command("c1", 100), 1_000);
      PendingCommand c = inbox.takeCommand(null, Set.of(), 1_099);
      assertThat(c).isNotNull();
      assertThat(inbox.takeCommand(null, Set.of(), 1_099)).isNull();
      assertThat(inbox.finishCommand("c1", true, null, null)).isTrue();

      assertThat(inbox.received(command("c1", 100), 2_000).getState())
          .isEqualTo(CommandState.COMMAND_SUCCEEDED);
      assertThat(inbox.commandsStarted()).isEqualTo(1);
    }
  }

  /**
   * Regression (found by the simulator, seed 803): a command received with a 7 s TTL waited when
   * the device crashed; its wall clock was stepped back 1.8 hours while it was down, and the
   * restarted agent, whose time restarts from the wall clock, ran it 2.7 s after the TTL had passed
   * (it could have been hours). Nothing measures the downtime, so a waiting command expires at
   * startup.
   */
  @Test
  void commandWaitingWhenTheAgentStops_isExpiredAtStartup_neverRunLate() throws Exception {
    try (DocsFile file = open()) {
      LocalCommandInbox inbox = file.inbox();
      inbox.received(command("c1", 7_000), 1_000);
      inbox.received(command("c2", 7_000), 1_000);
      assertThat(inbox.takeCommand(Set.of("job"), Set.of(), 1_100).id()).isEqualTo("c1");
    }
    try (DocsFile file = open()) {
      LocalCommandInbox inbox = file.inbox();
      assertThat(inbox.takeCommand(null, Set.of(), 0)).isNull();
      assertThat(inbox.commandState("c1")).isEqualTo("failed");
      assertThat(inbox.commandState("c2")).isEqualTo("expired");
      assertThat(inbox.unconfirmed())
          .extracting(CommandStatus::getId, CommandStatus::getState, CommandStatus::getError)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple(
                  "c1", CommandState.COMMAND_FAILED, "the agent stopped while the command ran"),
              org.assertj.core.groups.Tuple.tuple(
                  "c2", CommandState.COMMAND_EXPIRED, LocalCommandInbox.EXPIRED_BY_RESTART));
      // A redelivery after the restart does not bring it back.
      assertThat(inbox.received(command("c2", 7_000), 10).getState())
          .isEqualTo(CommandState.COMMAND_EXPIRED);
    }
  }
}

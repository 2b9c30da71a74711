package io.edgesync.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocUpdate;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EdgeDocumentsTest {
  @TempDir Path dir;

  private EdgeDocuments open() throws Exception {
    return new EdgeDocuments(
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
    try (EdgeDocuments docs = open()) {
      AtomicInteger calls = new AtomicInteger();
      docs.setCommandListener(calls::incrementAndGet);
      docs.received(command("c1", 100), 1_000);
      assertThat(calls).hasValue(1);

      // A handler for other commands looks: nothing expired yet, nothing to say.
      assertThat(docs.takeCommand(Set.of("other"), Set.of(), 1_050)).isNull();
      assertThat(calls).hasValue(1);
      // Its deadline passes before any handler takes it.
      assertThat(docs.takeCommand(null, Set.of(), 1_100)).isNull();

      assertThat(calls).hasValue(2);
      assertThat(docs.commandState("c1")).isEqualTo("expired");
      assertThat(docs.unconfirmed())
          .extracting(CommandStatus::getId, CommandStatus::getState)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("c1", CommandState.COMMAND_EXPIRED));
    }
  }

  @Test
  void commandTakenBeforeItsDeadline_runsOnce_andARedeliveryReportsItsOutcome() throws Exception {
    try (EdgeDocuments docs = open()) {
      docs.received(command("c1", 100), 1_000);
      EdgeDocuments.PendingCommand c = docs.takeCommand(null, Set.of(), 1_099);
      assertThat(c).isNotNull();
      assertThat(docs.takeCommand(null, Set.of(), 1_099)).isNull();
      assertThat(docs.finishCommand("c1", true, null, null)).isTrue();

      assertThat(docs.received(command("c1", 100), 2_000).getState())
          .isEqualTo(CommandState.COMMAND_SUCCEEDED);
      assertThat(docs.commandsStarted()).isEqualTo(1);
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
    try (EdgeDocuments docs = open()) {
      docs.received(command("c1", 7_000), 1_000);
      docs.received(command("c2", 7_000), 1_000);
      assertThat(docs.takeCommand(Set.of("job"), Set.of(), 1_100).id()).isEqualTo("c1");
    }
    try (EdgeDocuments docs = open()) {
      assertThat(docs.takeCommand(null, Set.of(), 0)).isNull();
      assertThat(docs.commandState("c1")).isEqualTo("failed");
      assertThat(docs.commandState("c2")).isEqualTo("expired");
      assertThat(docs.unconfirmed())
          .extracting(CommandStatus::getId, CommandStatus::getState, CommandStatus::getError)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple(
                  "c1", CommandState.COMMAND_FAILED, "the agent stopped while the command ran"),
              org.assertj.core.groups.Tuple.tuple(
                  "c2", CommandState.COMMAND_EXPIRED, EdgeDocuments.EXPIRED_BY_RESTART));
      // A redelivery after the restart does not bring it back.
      assertThat(docs.received(command("c2", 7_000), 10).getState())
          .isEqualTo(CommandState.COMMAND_EXPIRED);
    }
  }

  private static DocUpdate update(String key, long version, String json) {
    DocUpdate.Builder u =
        DocUpdate.newBuilder()
            .setScope("device")
            .setCollection("cfg")
            .setKey(key)
            .setVersion(version)
            .setHlc(new Hlc(4_000, 0, "cloud").toWire());
    return json == null
        ? u.setDeleted(true).build()
        : u.setValue(ByteString.copyFromUtf8(json)).build();
  }

  /**
   * Regression (found by the simulator, seeds 2447 and 7352): the device edited a document on
   * version 2 while the cloud deleted it (version 7). The push of the tombstone reached the device
   * (not applied: the edit was pending) but the edit did not reach the cloud before the connection
   * died. The next Hello reported cursor 7, the cloud collected the tombstone as seen by every
   * reader, and the edit then fast-forwarded over nothing: the delete was lost without a conflict.
   */
  @Test
  void pendingChangeMadeBeforeACloudDelete_keepsTheReportedCursorAtItsBase() throws Exception {
    try (EdgeDocuments docs = open()) {
      docs.apply(List.of(update("k", 2, "{\"a\":1}")));
      docs.put("cfg", "k", "{\"a\":2}");

      docs.apply(List.of(update("k", 7, null), update("other", 8, "{}")));

      assertThat(docs.get("cfg", "k").orElseThrow().pending()).isTrue();
      assertThat(docs.cursors()).containsEntry("device", 2L);
      // Once the edit's outcome is in, the cursor is the highest version applied again.
      docs.acknowledged(1, List.of());
      docs.apply(List.of(update("k", 9, "{\"a\":2}").toBuilder().setOriginChangeSeq(1).build()));
      assertThat(docs.cursors()).containsEntry("device", 9L);
    }
  }
}

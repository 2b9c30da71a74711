package io.edgesync.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.agent.internal.docs.DocsFile;
import io.edgesync.agent.internal.docs.LocalCommandInbox;
import io.edgesync.protocol.wire.Command;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands the MQTT listener claims for its subscribers are never handed to the local API's pollers
 * ({@code next}), so the two never race for one; unclaimed names still go to the pollers.
 */
class CommandClaimsTest {
  @TempDir Path dir;

  private static Command command(String id, String name) {
    return Command.newBuilder()
        .setId(id)
        .setName(name)
        .setPayload(ByteString.copyFromUtf8("{}"))
        .setTtlRemainingMs(600_000)
        .build();
  }

  @Test
  void claimedNames_areLeftToTakeClaimed_andTheRestGoToThePollers() throws Exception {
    try (DocsFile file =
        new DocsFile(
            dir.resolve("edgesync-docs.db"), "d1", Set.of("cfg"), 65_536, 300_000, true, () -> 5)) {
      LocalCommandInbox inbox = file.inbox();
      CommandRunner runner = new CommandRunner("d1", inbox, () -> 1_000);
      inbox.received(command("c1", "reboot"), 1_000); // the oldest
      inbox.received(command("c2", "probe"), 1_000);
      runner.setClaims(Set.of("reboot"), false);

      assertThat(runner.next(0).id()).isEqualTo("c2");
      assertThat(runner.next(0)).isNull();
      assertThat(runner.takeClaimed(Set.of("reboot")).id()).isEqualTo("c1");
    }
  }

  @Test
  void claimingAll_leavesNothingToThePollers() throws Exception {
    try (DocsFile file =
        new DocsFile(
            dir.resolve("edgesync-docs.db"), "d1", Set.of("cfg"), 65_536, 300_000, true, () -> 5)) {
      LocalCommandInbox inbox = file.inbox();
      CommandRunner runner = new CommandRunner("d1", inbox, () -> 1_000);
      inbox.received(command("c1", "anything"), 1_000);
      runner.setClaims(Set.of(), true);

      assertThat(runner.next(0)).isNull();
      assertThat(runner.takeClaimed(null).id()).isEqualTo("c1");
    }
  }
}

package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.commands.CommandStore.StoredCommand;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteCommandsTest {
  @TempDir Path dir;

  /**
   * Regression (found by the simulator, seed 10): a command was sent, the device's RECEIVED was
   * lost with a cloud crash, the device ran it within its TTL (which starts on arrival) and
   * reported SUCCEEDED after a reconnect; by then the cloud had marked it expired "before the
   * device received it" and ignored the report, so the cloud said expired for a command that ran.
   */
  @Test
  void commandExpiredByTheCloudAfterItWasSent_takesTheStateTheDeviceReports() throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("c.db"))) {
      CommandStore commands = store.commands();
      StoredCommand c = commands.create("d", "reboot", "{}".getBytes(UTF_8), 1_000, 10_000);
      commands.sent(c.id(), 10_010);

      // The TTL passes on the cloud before the device's RECEIVED arrives.
      assertThat(commands.command(c.id(), 11_500).state()).isEqualTo(CommandStore.EXPIRED);
      // RECEIVED alone does not bring it back: the final report will follow.
      assertThat(commands.report("d", c.id(), CommandStore.DELIVERED, null, null, 11_600).state())
          .isEqualTo(CommandStore.EXPIRED);
      StoredCommand after =
          commands.report(
              "d", c.id(), CommandStore.SUCCEEDED, "{\"ok\":true}".getBytes(UTF_8), null, 12_000);

      assertThat(after.state()).isEqualTo(CommandStore.SUCCEEDED);
      assertThat(new String(after.result(), UTF_8)).isEqualTo("{\"ok\":true}");
      // Final now: a later report changes nothing.
      assertThat(commands.report("d", c.id(), CommandStore.FAILED, null, "x", 13_000).state())
          .isEqualTo(CommandStore.SUCCEEDED);
    }
  }

  @Test
  void commandNeverSent_staysExpired_andADeviceReportChangesNothing() throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("c.db"))) {
      CommandStore commands = store.commands();
      StoredCommand c = commands.create("d", "reboot", "{}".getBytes(UTF_8), 1_000, 10_000);

      assertThat(commands.command(c.id(), 11_000).state()).isEqualTo(CommandStore.EXPIRED);
      assertThat(commands.report("d", c.id(), CommandStore.SUCCEEDED, null, null, 12_000).state())
          .isEqualTo(CommandStore.EXPIRED);
    }
  }

  @Test
  void commandTheDeviceReportedExpired_staysExpired() throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("c.db"))) {
      CommandStore commands = store.commands();
      StoredCommand c = commands.create("d", "reboot", "{}".getBytes(UTF_8), 1_000, 10_000);
      commands.sent(c.id(), 10_010);
      commands.report("d", c.id(), CommandStore.DELIVERED, null, null, 10_050);
      commands.report("d", c.id(), CommandStore.EXPIRED, null, "TTL passed", 11_100);

      assertThat(commands.report("d", c.id(), CommandStore.SUCCEEDED, null, null, 12_000).state())
          .isEqualTo(CommandStore.EXPIRED);
    }
  }

  @Test
  void commandIds_comeFromTheGivenSupplier() throws Exception {
    int[] n = {0};
    try (SqliteCloudStore store =
        new SqliteCloudStore(dir.resolve("c.db"), () -> "id-" + (++n[0]))) {
      assertThat(store.commands().create("d", "a", "{}".getBytes(UTF_8), 1_000, 0).id())
          .isEqualTo("id-1");
      assertThat(store.commands().create("d", "b", "{}".getBytes(UTF_8), 1_000, 0).id())
          .isEqualTo("id-2");
    }
  }
}

package io.edgesync.server;

import static io.edgesync.engine.commands.CommandStore.DELIVERED;
import static io.edgesync.engine.commands.CommandStore.EXPIRED;
import static io.edgesync.engine.commands.CommandStore.FAILED;
import static io.edgesync.engine.commands.CommandStore.SUCCEEDED;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.commands.CommandStore.StoredCommand;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

@ParameterizedClass
@EnumSource(StoreKind.class)
class SqliteCommandsTest {
  @RegisterExtension final StoreFile db;

  SqliteCommandsTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  /** A store's commands, and a "reboot" for device "d" queued at 10 s with a TTL of 1 s. */
  private CommandStore commands;

  private StoredCommand reboot;

  private void queueReboot() throws SQLException {
    commands = db.open().commands();
    reboot = commands.create("d", "reboot", "{}".getBytes(UTF_8), 1_000, 10_000);
  }

  /** The reboot's state after device "d" reports {@code state} at {@code nowMs}. */
  private String reported(String state, long nowMs) {
    return commands.report("d", reboot.id(), state, null, null, nowMs).state();
  }

  /**
   * Regression (found by the simulator, seed 10): a command was sent, the device's RECEIVED was
   * lost with a cloud crash, the device ran it within its TTL (which starts on arrival) and
   * reported SUCCEEDED after a reconnect; by then the cloud had marked it expired "before the
   * device received it" and ignored the report, so the cloud said expired for a command that ran.
   */
  @Test
  void commandExpiredByTheCloudAfterItWasSent_takesTheStateTheDeviceReports() throws Exception {
    queueReboot();
    commands.sent(reboot.id(), 10_010);

    // The TTL passes on the cloud before the device's RECEIVED arrives.
    assertThat(commands.command(reboot.id(), 11_500).state()).isEqualTo(EXPIRED);
    // RECEIVED alone does not bring it back: the final report will follow.
    assertThat(reported(DELIVERED, 11_600)).isEqualTo(EXPIRED);
    StoredCommand after =
        commands.report("d", reboot.id(), SUCCEEDED, "{\"ok\":true}".getBytes(UTF_8), null, 12_000);

    assertThat(after.state()).isEqualTo(SUCCEEDED);
    assertThat(new String(after.result(), UTF_8)).isEqualTo("{\"ok\":true}");
    // Final now: a later report changes nothing.
    assertThat(commands.report("d", reboot.id(), FAILED, null, "x", 13_000).state())
        .isEqualTo(SUCCEEDED);
  }

  @Test
  void commandNeverSent_staysExpired_andADeviceReportChangesNothing() throws Exception {
    queueReboot();

    assertThat(commands.command(reboot.id(), 11_000).state()).isEqualTo(EXPIRED);
    assertThat(reported(SUCCEEDED, 12_000)).isEqualTo(EXPIRED);
  }

  @Test
  void commandTheDeviceReportedExpired_staysExpired() throws Exception {
    queueReboot();
    commands.sent(reboot.id(), 10_010);
    reported(DELIVERED, 10_050);
    commands.report("d", reboot.id(), EXPIRED, null, "TTL passed", 11_100);

    assertThat(reported(SUCCEEDED, 12_000)).isEqualTo(EXPIRED);
  }

  @Test
  void commandIds_comeFromTheGivenSupplier() throws Exception {
    int[] n = {0};
    try (SqliteCloudStore store = db.open(StoreFile.HISTORY_VERSIONS, () -> "id-" + (++n[0]))) {
      assertThat(store.commands().create("d", "a", "{}".getBytes(UTF_8), 1_000, 0).id())
          .isEqualTo("id-1");
      assertThat(store.commands().create("d", "b", "{}".getBytes(UTF_8), 1_000, 0).id())
          .isEqualTo("id-2");
    }
  }
}

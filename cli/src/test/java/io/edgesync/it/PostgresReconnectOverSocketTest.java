package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OperationStatus;
import io.edgesync.protocol.Record;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.TestPostgres;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent syncing over a real socket to a server on a real PostgreSQL, whose every connection
 * the database ends in the middle (as a restart or failover does): the server reconnects by itself
 * and the agent's records all arrive, each once and in order; nothing acknowledged is lost.
 */
class PostgresReconnectOverSocketTest {
  private static final int RECORDS = 300;

  @TempDir Path dir;
  @RegisterExtension final TestDatabase db = new TestDatabase();

  @Test
  void anAgentKeepsSyncingAcrossTheServersConnectionsBeingTerminated() throws Exception {
    try (SyncServer server = SyncServer.start(config());
        EdgeAgent agent =
            EdgeAgent.open(
                Testbed.fastSync(
                    AgentConfig.simple(
                        "dev-1", URI.create(server.syncUrl()), dir.resolve("edge"))))) {
      AppendResult last = null;
      for (int i = 1; i <= RECORDS; i++) {
        last = agent.append("sensor_data", ("{\"i\":" + i + "}").getBytes(UTF_8));
        if (i == RECORDS / 3) {
          String op = last.operationId();
          await()
              .atMost(Duration.ofSeconds(20))
              .until(() -> agent.operationStatus(op).state() == OperationStatus.State.SYNCED);
          terminateTheServersConnections();
        }
      }
      String opId = last.operationId();
      // Work of the server's own threads that met the broken connection first (a cluster-bus
      // resync) fails there and is logged; what is checked is what the device sees.
      await()
          .dontCatchUncaughtExceptions()
          .atMost(Duration.ofSeconds(30))
          .until(() -> agent.operationStatus(opId).state() == OperationStatus.State.SYNCED);

      List<Record> stored = server.store().read("dev-1", "sensor_data", 0, 2 * RECORDS);
      assertThat(stored).extracting(Record::sequence).hasSize(RECORDS).doesNotHaveDuplicates();
      for (int i = 0; i < RECORDS; i++) {
        assertThat(stored.get(i).sequence()).isEqualTo(i + 1);
        assertThat(new String(stored.get(i).payload(), UTF_8)).isEqualTo("{\"i\":" + (i + 1) + "}");
      }
      assertThat(((SqliteCloudStore) server.store()).reconnects()).isPositive();
    }
  }

  private ServerConfig config() {
    return ServerConfig.fromYaml(
        "server:\n"
            + "  host: 127.0.0.1\n"
            + "  port: 0\n"
            + "  data_dir: \""
            + dir.resolve("cloud")
            + "\"\n"
            + db.storeYaml());
  }

  /** Ends every connection of the server to its database and waits until they are gone. */
  private void terminateTheServersConnections() throws Exception {
    try (Connection c = TestPostgres.connect(db.name());
        Statement st = c.createStatement()) {
      String pids;
      try (ResultSet rs =
          st.executeQuery(
              "SELECT string_agg(pid::text, ',') FROM pg_stat_activity"
                  + " WHERE datname = current_database() AND application_name = 'edgesync-server'"
                  + " AND pid <> pg_backend_pid()")) {
        rs.next();
        pids = rs.getString(1);
      }
      assertThat(pids).as("the server's connections").isNotNull();
      st.execute("SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[" + pids + "]) pid");
      await()
          .dontCatchUncaughtExceptions()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                try (ResultSet rs =
                    st.executeQuery(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid IN (" + pids + ")")) {
                  rs.next();
                  return rs.getLong(1) == 0;
                }
              });
    }
  }
}

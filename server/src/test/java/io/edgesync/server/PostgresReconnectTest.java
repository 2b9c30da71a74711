package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.docs.DocumentStore.DocWrite;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.Record;
import io.edgesync.support.jdbc.StoreException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PostgreSQL store when the database ends its connection (a restart, {@code
 * pg_terminate_backend}, a network cut): the call that meets the broken connection fails, naming
 * the database; the next call runs on a fresh connection of the pool, and everything committed
 * before and after is there. A transaction the loss interrupted stores nothing.
 */
class PostgresReconnectTest {
  private static final Hlc STAMP = new Hlc(1_700_000_000_000L, 0, "gw-1");

  @RegisterExtension final StoreFile db = new StoreFile(StoreKind.POSTGRES);

  @Test
  void afterItsConnectionIsTerminated_theStoreFailsOneCall_thenReconnects_andLosesNothing()
      throws Exception {
    SqliteCloudStore store = db.open();
    store.registerDevice("gw-1", 1);
    store.commitRecords("gw-1", "s", records(1, 3), 2);
    store.documents().inTransaction(tx -> tx.write(doc("k1")));

    terminateTheStoresConnections();
    // Before the fix every later call failed the same way, until the server restarted.
    assertThatThrownBy(() -> store.commitRecords("gw-1", "s", records(4, 3), 3))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("failed in " + url());
    assertThat(store.commitRecords("gw-1", "s", records(4, 3), 3)).isEqualTo(6); // the resend

    terminateTheStoresConnections(); // now the document writer meets the lost connection
    assertThatThrownBy(() -> store.documents().inTransaction(tx -> tx.write(doc("k2"))))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("failed in " + url());
    store.documents().inTransaction(tx -> tx.write(doc("k2")));
    store.auditLog().append("ops", "test.after", "k2", Map.of());

    assertThat(store.read("gw-1", "s", 0, 100))
        .extracting(Record::sequence)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(store.checkpoints("gw-1")).isEqualTo(Map.of("s", 6L));
    assertThat(store.documents().get("fleet", "config", "k1").version()).isEqualTo(1);
    assertThat(store.documents().get("fleet", "config", "k2").version()).isEqualTo(2);
    assertThat(store.reconnects()).isEqualTo(2);
    assertThat(db.number("SELECT count(*) FROM batches")).isEqualTo(2);
    assertThat(db.number("SELECT last_seq FROM streams WHERE device='gw-1'")).isEqualTo(6);
    assertThat(db.number("SELECT count(*) FROM docs")).isEqualTo(2);
  }

  @Test
  void aTransactionTheLostConnectionInterrupted_storesNothing_andTheNextOneIsWhole()
      throws Exception {
    SqliteCloudStore store = db.open();
    store.registerDevice("gw-1", 1);
    store.documents().inTransaction(tx -> tx.write(doc("k1")));

    assertThatThrownBy(
            () ->
                store
                    .documents()
                    .inTransaction(
                        tx -> {
                          tx.setLastChangeSeq("gw-1", 5); // runs its SQL at once
                          tx.write(doc("k2"));
                          terminateTheStoresConnections();
                          tx.write(doc("k3"));
                          return null;
                        }))
        .isInstanceOf(StoreException.class);

    store
        .documents()
        .inTransaction(
            tx -> {
              tx.setLastChangeSeq("gw-1", 6);
              return tx.write(doc("k4"));
            });
    assertThat(db.number("SELECT count(*) FROM docs WHERE key IN ('k2', 'k3')")).isZero();
    assertThat(db.number("SELECT count(*) FROM doc_log WHERE key IN ('k2', 'k3')")).isZero();
    assertThat(db.number("SELECT last_change_seq FROM device_docs WHERE device='gw-1'"))
        .isEqualTo(6);
    // The versions the lost transaction took are handed out again: no hole in the numbering.
    assertThat(db.number("SELECT version FROM docs WHERE key='k4'")).isEqualTo(2);
    assertThat(db.number("SELECT v FROM meta WHERE k='doc_version'")).isEqualTo(2);
  }

  private String url() {
    return db.settings().url();
  }

  /**
   * Ends every connection of the store's pool to this test's database, as a database restart would,
   * and waits until their backends are gone (so the next statement on them fails for certain).
   */
  private void terminateTheStoresConnections() {
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      List<Integer> pids = new ArrayList<>();
      try (ResultSet rs =
          st.executeQuery(
              "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                  + " AND application_name = 'edgesync-server' AND pid <> pg_backend_pid()")) {
        while (rs.next()) {
          pids.add(rs.getInt(1));
        }
      }
      assertThat(pids).as("the store's backends").isNotEmpty();
      Array ids = c.createArrayOf("int4", pids.toArray());
      try (var ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM unnest(?) pid")) {
        ps.setArray(1, ids);
        ps.execute();
      }
      long deadline = System.nanoTime() + 10_000_000_000L;
      try (var ps =
          c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(?)")) {
        ps.setArray(1, ids);
        while (true) {
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (rs.getLong(1) == 0) {
              return;
            }
          }
          if (System.nanoTime() > deadline) {
            throw new AssertionError("the store's backends " + pids + " did not end");
          }
          Thread.sleep(10);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static List<Record> records(long first, int n) {
    List<Record> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Record(first + i, 1_000 + i, ("{\"n\":" + (first + i) + "}").getBytes(UTF_8)));
    }
    return out;
  }

  private static DocWrite doc(String key) {
    return new DocWrite(
        "fleet", "config", key, "{}".getBytes(UTF_8), STAMP, "gw-1", 0, 0, "gw-1", 0, 1L);
  }
}

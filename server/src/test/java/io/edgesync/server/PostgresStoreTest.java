package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.DocWrite;
import io.edgesync.protocol.Hlc;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What only the PostgreSQL store has. Flyway migrations: a database of a newer schema is refused.
 * Several server nodes (here two stores, each with its own connection and in-memory counters)
 * writing one database at once. The document version and the audit chain's head are store-wide
 * counters; the counter lock ({@link StoreDialect.CounterLock#DOCUMENTS}) makes each node continue
 * from what the other stored, so no number is handed out twice.
 */
class PostgresStoreTest {
  private static final Hlc STAMP = new Hlc(1_700_000_000_000L, 0, "gw-1");
  private static final int THREADS_PER_NODE = 2;
  private static final int WRITES_PER_THREAD = 60;

  @RegisterExtension final StoreFile db = new StoreFile(StoreKind.POSTGRES);

  private static DocWrite put(String key) {
    return new DocWrite(
        "fleet", "config", key, "{}".getBytes(UTF_8), STAMP, "gw-1", 0, 0, "gw-1", 0, 1L);
  }

  @Test
  void aResendRequestRecordedByOneNode_isAskedForByTheNodeTheDeviceMovesTo() throws Exception {
    // Each node remembered only the devices *it* had asked: a device whose session moved to
    // another node was never asked again, and kept a change the cloud had not merged.
    SqliteCloudStore a = db.open(SqliteDocuments.HISTORY_VERSIONS, () -> "a");
    SqliteCloudStore b = db.open(SqliteDocuments.HISTORY_VERSIONS, () -> "b");
    a.documents()
        .inTransaction(
            tx -> {
              tx.requestResend("gw-1", 7, "device:gw-1", "config", "k");
              return null;
            });

    List<Long> askedByB = b.documents().inTransaction(tx -> tx.resendRequests("gw-1"));
    assertThat(askedByB).containsExactly(7L);
    b.documents()
        .inTransaction(
            tx -> {
              tx.resendMet("gw-1", 8, "device:gw-1", "config", "k");
              return null;
            });
    List<Long> askedByA = a.documents().inTransaction(tx -> tx.resendRequests("gw-1"));
    assertThat(askedByA).isEmpty();
  }

  @Test
  void aNodeNeverServesOrDecidesOnAVersionAnotherNodeReplaced() throws Exception {
    SqliteCloudStore a = db.open(SqliteDocuments.HISTORY_VERSIONS, () -> "a");
    SqliteCloudStore b = db.open(SqliteDocuments.HISTORY_VERSIONS, () -> "b");
    a.documents().inTransaction(tx -> tx.write(value("k", "{\"v\":1}")));
    assertThat(b.documents().get("fleet", "config", "k").version()).isEqualTo(1); // b caches it

    a.documents().inTransaction(tx -> tx.write(value("k", "{\"v\":2}")));

    DocumentStore.StoredDoc read = b.documents().get("fleet", "config", "k");
    assertThat(read.version()).isEqualTo(2);
    assertThat(new String(read.value(), UTF_8)).isEqualTo("{\"v\":2}");
    a.documents().inTransaction(tx -> tx.write(value("k", "{\"v\":3}")));
    // Inside b's transaction (where conflicts are decided) the current version is a's newest too.
    long seen = b.documents().inTransaction(tx -> tx.doc("fleet", "config", "k").version());
    assertThat(seen).isEqualTo(3);
  }

  private static DocWrite value(String key, String json) {
    return new DocWrite(
        "fleet", "config", key, json.getBytes(UTF_8), STAMP, "gw-1", 0, 0, "gw-1", 0, 1L);
  }

  @Test
  void twoNodesWritingAtOnce_handOutEveryDocumentVersionAndAuditRecordOnce() throws Exception {
    List<SqliteCloudStore> nodes = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      nodes.add(db.open(SqliteDocuments.HISTORY_VERSIONS, () -> UUID.randomUUID().toString()));
    }
    ExecutorService threads = Executors.newFixedThreadPool(2 * THREADS_PER_NODE);
    List<Future<?>> done = new ArrayList<>();
    try {
      for (int n = 0; n < nodes.size(); n++) {
        for (int t = 0; t < THREADS_PER_NODE; t++) {
          SqliteCloudStore node = nodes.get(n);
          String prefix = "node" + n + "-thread" + t + "-";
          done.add(threads.submit(() -> writeAndAudit(node, prefix)));
        }
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS); // a collision fails the writer's transaction: thrown here
      }
    } finally {
      threads.shutdownNow();
    }

    long writes = 2L * THREADS_PER_NODE * WRITES_PER_THREAD;
    assertThat(db.number("SELECT count(*) FROM doc_log")).isEqualTo(writes);
    assertThat(db.number("SELECT max(version) FROM doc_log")).isEqualTo(writes);
    assertThat(db.number("SELECT v FROM meta WHERE k='doc_version'")).isEqualTo(writes);
    assertThat(db.number("SELECT count(*) FROM audit_log")).isEqualTo(writes);
    assertThat(db.number("SELECT max(seq) FROM audit_log")).isEqualTo(writes);
    AuditVerifier.Report chain =
        nodes.get(0).auditLog().verify(AuditKeys.loadOrCreate(db.dir()).getPublic());
    assertThat(chain.ok()).as(chain.summary()).isTrue();
    assertThat(chain.summary()).startsWith("OK: " + writes + " records");
  }

  private static void writeAndAudit(SqliteCloudStore node, String prefix) {
    for (int i = 0; i < WRITES_PER_THREAD; i++) {
      String key = prefix + i;
      node.documents().inTransaction(tx -> tx.write(put(key)));
      node.auditLog().append("ops", "test.write", key, Map.of("i", i));
    }
  }

  /** As SQLite refuses a file of a newer schema, so PostgreSQL: no Flyway "future" skipping. */
  @Test
  void databaseMigratedByANewerBuild_isRefused_andLeftAsItIs() throws Exception {
    db.open().registerDevice("gw-1", 5);
    db.closeAll();
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute(
          "INSERT INTO flyway_schema_history(installed_rank, version, description, type, script,"
              + " checksum, installed_by, execution_time, success) VALUES (99, '99', 'future',"
              + " 'SQL', 'V99__future.sql', 0, 'test', 0, true)");
    }

    assertThatThrownBy(db::open)
        .hasMessageContaining("migrating the schema of jdbc:postgresql://")
        .hasMessageContaining("99");
    assertThat(db.number("SELECT count(*) FROM devices")).isEqualTo(1);
  }

  /**
   * The store holds one connection for its life: a read outside a transaction must end its implicit
   * transaction, or the connection sits "idle in transaction" until the next write, holding its
   * locks (blocking migrations) and running into a DBA's idle_in_transaction_session_timeout, which
   * would close the store's only connection.
   */
  @Test
  void readsOutsideATransaction_leaveTheConnectionIdle_notIdleInTransaction() throws Exception {
    SqliteCloudStore store = db.open();
    store.registerDevice("gw-1", 5);
    store.commitRecords(
        "gw-1", "s", List.of(new io.edgesync.protocol.Record(1, 1, new byte[1])), 9);
    store.documents().inTransaction(tx -> tx.write(put("k")));
    db.closeAll();
    store = db.open(); // nothing cached: every read below goes to the database

    SqliteCloudStore s = store;
    Map<String, Runnable> reads = new java.util.LinkedHashMap<>();
    reads.put("devices", s::devices);
    reads.put("device", () -> s.device("gw-1"));
    reads.put("checkpoints", () -> s.checkpoints("gw-1"));
    reads.put("streams", () -> s.streams("gw-1"));
    reads.put("gaps", () -> s.gaps("gw-1", "s"));
    reads.put("read", () -> s.read("gw-1", "s", 0, 10));
    reads.put("documents.get", () -> s.documents().get("fleet", "config", "k"));
    reads.put("documents.list", () -> s.documents().list("fleet", "config", "", 10));
    reads.put("documents.changesAfter", () -> s.documents().changesAfter("fleet", 0, 10));
    reads.put("documents.groups", () -> s.documents().groups("gw-1"));
    reads.put("documents.devicesReading", () -> s.documents().devicesReading("fleet"));
    reads.put("documents.conflicts", () -> s.documents().conflict(1));
    reads.put("dictionaries.all", () -> s.dictionaries().all());
    reads.put("dictionaries.samples", () -> s.dictionaries().samples("s", 1000));
    for (Map.Entry<String, Runnable> r : reads.entrySet()) {
      r.getValue().run();
      assertThat(
              db.number(
                  "SELECT count(*) FROM pg_stat_activity WHERE datname=current_database()"
                      + " AND application_name='edgesync-server'"
                      + " AND state='idle in transaction'"))
          .as("after %s", r.getKey())
          .isZero();
    }
  }
}

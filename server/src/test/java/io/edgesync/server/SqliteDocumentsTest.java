package io.edgesync.server;

import static io.edgesync.server.StoreFile.HISTORY_VERSIONS;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgesync.engine.docs.ConflictDecider;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.AuditFilter;
import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.engine.docs.DocumentStore.DocWrite;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Hlc;
import io.edgesync.support.Migrations;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The storage layout of {@link SqliteDocuments} on a real file: the version log with its narrow
 * index of current versions, pruning that never loses a current version, group commits whose failed
 * member leaves no trace in the log or the cache, audit rows that share the conflict's values, and
 * the migration of a schema-3 database.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class SqliteDocumentsTest {
  private static final Hlc STAMP = new Hlc(1_700_000_000_000L, 0, "gw-1");

  @RegisterExtension final StoreFile db;

  SqliteDocumentsTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  private DocumentStore open() throws SQLException {
    return db.open().documents();
  }

  private static DocWrite put(String key, String json) {
    return new DocWrite(
        "fleet",
        "config",
        key,
        json == null ? null : json.getBytes(UTF_8),
        STAMP,
        "gw-1",
        0,
        0,
        "gw-1",
        0,
        1L);
  }

  private static String text(StoredDoc d) {
    return d == null || d.value() == null ? null : new String(d.value(), UTF_8);
  }

  @Test
  void currentVersionOfAColdKey_survivesPruning_andItsRowGoesOnceSuperseded() throws Exception {
    DocumentStore store = open();
    store.inTransaction(tx -> tx.write(put("cold", "{\"v\":1}")));
    for (int i = 0; i < 10; i++) {
      int n = i;
      store.inTransaction(
          tx -> {
            for (int j = 0; j < 20; j++) {
              tx.write(put("hot", "{\"n\":" + (n * 20 + j) + "}"));
            }
            return null;
          });
    }
    // version 1 is far below the 32-version window: still current, so still in the log
    assertThat(db.number("SELECT count(*) FROM doc_log WHERE key='cold'")).isEqualTo(1);
    assertThat(db.number("SELECT count(*) FROM doc_log WHERE key='hot'"))
        .isBetween(HISTORY_VERSIONS - 20, HISTORY_VERSIONS + 8);

    db.closeAll(); // no cache: everything below is read from the file
    store = open();
    assertThat(text(store.get("fleet", "config", "cold"))).isEqualTo("{\"v\":1}");
    assertThat(store.list("fleet", "config", "", 10))
        .extracting(StoredDoc::key)
        .containsExactly("cold", "hot");
    assertThat(store.changesAfter("fleet", 0, 10))
        .extracting(StoredDoc::key, StoredDoc::version)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("cold", 1L),
            org.assertj.core.groups.Tuple.tuple("hot", 201L));

    // superseded below the pruned range: its row is deleted with the write, not left behind
    StoredDoc v2 = store.inTransaction(tx -> tx.write(put("cold", "{\"v\":2}")));
    assertThat(v2.version()).isEqualTo(202);
    assertThat(db.number("SELECT count(*) FROM doc_log WHERE key='cold'")).isEqualTo(1);
    assertThat(db.number("SELECT version FROM docs WHERE key='cold'")).isEqualTo(202);
  }

  @Test
  void failedTransactionInAGroup_leavesNoVersionInTheLogTheIndexOrTheCache() throws Exception {
    DocumentStore store = open();
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Object> blocker =
        store.inTransactionAsync(
            tx -> {
              holding.countDown();
              try {
                release.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return tx.write(put("a", "{\"a\":1}"));
            });
    assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
    // these three wait together and run as one group with one commit
    CompletableFuture<StoredDoc> first = store.inTransactionAsync(tx -> tx.write(put("b", "{}")));
    CompletableFuture<StoredDoc> failing =
        store.inTransactionAsync(
            tx -> {
              tx.write(put("a", "{\"a\":\"lost\"}"));
              tx.write(put("c", "{\"c\":\"lost\"}"));
              throw new IllegalStateException("planned failure");
            });
    CompletableFuture<StoredDoc> last =
        store.inTransactionAsync(
            tx -> {
              // reads inside the group see the released transaction's write, not the failed one's
              assertThat(tx.doc("fleet", "config", "b").version()).isEqualTo(2);
              assertThat(text(tx.doc("fleet", "config", "a"))).isEqualTo("{\"a\":1}");
              assertThat(tx.doc("fleet", "config", "c")).isNull();
              assertThat(tx.version("fleet", "config", "b", 2)).isNotNull();
              return tx.write(put("a", "{\"a\":3}"));
            });
    release.countDown();
    blocker.get(10, TimeUnit.SECONDS);

    assertThat(first.get(10, TimeUnit.SECONDS).version()).isEqualTo(2);
    assertThatThrownBy(() -> failing.get(10, TimeUnit.SECONDS))
        .hasRootCauseMessage("planned failure");
    assertThat(last.get(10, TimeUnit.SECONDS).version()).isEqualTo(3);
    assertThat(text(store.get("fleet", "config", "a"))).isEqualTo("{\"a\":3}");
    assertThat(store.get("fleet", "config", "c")).isNull();
    assertThat(db.number("SELECT count(*) FROM doc_log")).isEqualTo(3);
    assertThat(
            db.number(
                db.kind() == StoreKind.SQLITE
                    ? "SELECT count(*) FROM doc_log WHERE value LIKE '%lost%'"
                    : "SELECT count(*) FROM doc_log WHERE position('lost'::bytea in value) > 0"))
        .isZero();
    assertThat(db.number("SELECT count(*) FROM docs")).isEqualTo(2);

    db.closeAll();
    store = open();
    assertThat(store.inTransaction(tx -> tx.write(put("d", "{}"))).version()).isEqualTo(4);
  }

  @Test
  void auditOfAnAutomaticResolution_sharesTheConflictsValues_andReadsThemBack() throws Exception {
    DocumentStore store = open();
    byte[] base = "{\"x\":0}".getBytes(UTF_8);
    byte[] cloud = "{\"x\":1}".getBytes(UTF_8);
    byte[] edge = "{\"x\":2}".getBytes(UTF_8);
    byte[] otherCloud = "{\"x\":5}".getBytes(UTF_8);
    store.inTransaction(
        tx -> {
          long id =
              tx.openConflict(
                  new ConflictRecord(
                      0,
                      "fleet",
                      "config",
                      "k",
                      "gw-1",
                      "merge",
                      ConflictRecord.RESOLVED,
                      false,
                      1,
                      base,
                      2,
                      cloud,
                      STAMP,
                      7,
                      edge,
                      STAMP,
                      "[]",
                      null,
                      "edge",
                      "auto",
                      3,
                      edge,
                      1,
                      1));
          tx.audit(
              new AuditRecord(
                  0,
                  1,
                  id,
                  "fleet",
                  "config",
                  "k",
                  "gw-1",
                  "merge",
                  "edge",
                  "auto",
                  1,
                  base,
                  2,
                  otherCloud,
                  STAMP,
                  edge,
                  STAMP,
                  3,
                  edge,
                  null));
          return null;
        });
    // base, edge and result are the conflict's bytes and are not copied; the cloud value differs
    assertThat(db.number("SELECT shared_values FROM audit")).isEqualTo(1 | 4 | 8);
    assertThat(db.number("SELECT count(*) FROM audit WHERE base_value IS NULL")).isEqualTo(1);
    AuditRecord a = store.audit(new AuditFilter(null, null, "k", 0, 10)).get(0);
    assertThat(new String(a.baseValue(), UTF_8)).isEqualTo("{\"x\":0}");
    assertThat(new String(a.cloudValue(), UTF_8)).isEqualTo("{\"x\":5}");
    assertThat(new String(a.edgeValue(), UTF_8)).isEqualTo("{\"x\":2}");
    assertThat(new String(a.resultValue(), UTF_8)).isEqualTo("{\"x\":2}");
  }

  @Test
  void schema3Database_migratesToTheLog_withItsDocumentsTombstonesAndBases() throws Exception {
    assumeTrue(db.kind() == StoreKind.SQLITE, "SQLite's own migrations (PostgreSQL starts at V4+)");
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      Migrations.apply(
          c,
          SqliteCloudStore.class,
          "db/V1__init.sql",
          "db/V2__documents.sql",
          "db/V3__wire_accounting.sql");
      st.execute(
          "INSERT INTO docs VALUES ('fleet','config','pump',7,'{\"p\":2}',10,1,'gw-2','gw-2',3,0,"
              + "'gw-2',11,99)");
      st.execute(
          "INSERT INTO docs VALUES ('fleet','config','gone',8,NULL,12,0,'$cloud','$cloud',0,0,"
              + "'',0,99)");
      st.execute(
          "INSERT INTO doc_history VALUES (5,'fleet','config','pump','{\"p\":1}',9,0,'gw-1')");
      st.execute(
          "INSERT INTO doc_history VALUES (7,'fleet','config','pump','{\"p\":2}',10,1,'gw-2')");
      st.execute("INSERT INTO doc_history VALUES (8,'fleet','config','gone',NULL,12,0,'$cloud')");
      st.execute("INSERT INTO meta(k, v, t) VALUES ('doc_version', 8, NULL)");
    }

    DocumentStore store = open();
    StoredDoc pump = store.get("fleet", "config", "pump");
    assertThat(text(pump)).isEqualTo("{\"p\":2}");
    assertThat(pump.version()).isEqualTo(7);
    assertThat(pump.writer()).isEqualTo("gw-2");
    assertThat(pump.foreignVersion()).isEqualTo(3);
    assertThat(pump.originChangeSeq()).isEqualTo(11);
    assertThat(pump.hlc()).isEqualTo(new Hlc(10, 1, "gw-2"));
    assertThat(store.get("fleet", "config", "gone").deleted()).isTrue();
    assertThat(store.list("fleet", "config", "", 10))
        .extracting(StoredDoc::key)
        .containsExactly("pump");
    assertThat(store.changesAfter("fleet", 5, 10))
        .extracting(StoredDoc::key)
        .containsExactly("pump", "gone");
    StoredDoc base = store.inTransaction(tx -> tx.version("fleet", "config", "pump", 5));
    assertThat(text(base)).isEqualTo("{\"p\":1}");
    // the version counter continues
    StoredDoc next =
        store.inTransaction(
            tx ->
                tx.write(
                    new DocWrite(
                        "fleet",
                        "config",
                        "pump",
                        "{\"p\":3}".getBytes(UTF_8),
                        STAMP,
                        ConflictDecider.CLOUD,
                        0,
                        0,
                        "",
                        0,
                        1)));
    assertThat(next.version()).isEqualTo(9);
  }
}

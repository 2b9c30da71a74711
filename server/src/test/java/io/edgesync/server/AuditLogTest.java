package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.protocol.Hlc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The hash-chained audit log on a real store file: records from concurrent writers and document
 * transactions form one gap-free chain in commit order, a failed transaction leaves no record and
 * no gap, checkpoints are signed every N records and after an idle interval, the chain continues
 * across a restart, and an edit of the stored rows is found at the record edited.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class AuditLogTest {
  private static final Hlc STAMP = new Hlc(1_700_000_000_000L, 0, "gw-1");

  @RegisterExtension final StoreFile db;
  private final List<SqliteCloudStore> opened = new ArrayList<>();

  AuditLogTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  private SqliteCloudStore open(long everyRecords, long intervalMs) throws Exception {
    SqliteCloudStore store = db.open();
    opened.add(store);
    store.auditLog().enableCheckpoints(AuditKeys.loadOrCreate(db.dir()), everyRecords, intervalMs);
    return store;
  }

  /**
   * The stored chain verified: on SQLite by the offline tool ({@code edgesync audit verify} reads
   * the file), on PostgreSQL through the store's own reader.
   */
  private AuditVerifier.Report verifyStored() throws Exception {
    if (db.kind() == StoreKind.SQLITE) {
      return AuditFiles.verifyStore(db.dir());
    }
    return opened
        .get(opened.size() - 1)
        .auditLog()
        .verify(AuditKeys.loadOrCreate(db.dir()).getPublic());
  }

  private static AuditRecord conflictAudit(long conflictId, String outcome) {
    byte[] v = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    return new AuditRecord(
        0,
        5,
        conflictId,
        "fleet",
        "config",
        "k",
        "gw-1",
        "merge",
        outcome,
        "auto",
        1,
        v,
        2,
        v,
        STAMP,
        v,
        STAMP,
        3,
        v,
        null);
  }

  @Test
  void concurrentAppendsAndConflictAudits_formOneGapFreeChain_thatVerifies() throws Exception {
    SqliteCloudStore store = open(7, 60_000);
    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      writes.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 10; i++) {
                  store.auditLog().append("key-" + thread, "apikey.use", "k/" + i, Map.of("i", i));
                }
              }));
      writes.add(
          store
              .documents()
              .inTransactionAsync(
                  tx -> {
                    tx.audit(conflictAudit(thread + 1, "edge"));
                    return null;
                  }));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();

    List<AuditChain.Entry> log = store.auditLog().read(0, 1000);
    long conflictRecords = log.stream().filter(e -> e.action().equals("conflict.resolve")).count();
    assertThat(conflictRecords).isEqualTo(4);
    for (int i = 0; i < log.size(); i++) {
      assertThat(log.get(i).seq()).isEqualTo(i + 1);
    }
    // 44 records and a checkpoint after every 7 of them.
    assertThat(log).hasSize(44 + 6);
    AuditVerifier.Report r = verifyStored();
    assertThat(r.summary()).startsWith("OK: 50 records (6 checkpoints)");
    assertThat(r.anchoredThroughSeq()).isEqualTo(48);
  }

  @Test
  void aFailedTransaction_leavesNoAuditRecordAndNoGapInTheChain() throws Exception {
    SqliteCloudStore store = open(1000, 60_000);
    store.auditLog().append("ops", "apikey.create", "key/ops", Map.of());
    CompletableFuture<Object> failed =
        store
            .documents()
            .inTransactionAsync(
                tx -> {
                  tx.audit(conflictAudit(1, "edge"));
                  throw new IllegalStateException("resolver failed");
                });
    assertThatThrownBy(failed::join).isInstanceOf(CompletionException.class);
    store.auditLog().append("ops", "apikey.revoke", "key/ops", Map.of());

    List<AuditChain.Entry> log = store.auditLog().read(0, 100);
    assertThat(log)
        .extracting(AuditChain.Entry::action)
        .containsExactly("apikey.create", "apikey.revoke");
    assertThat(log).extracting(AuditChain.Entry::seq).containsExactly(1L, 2L);
    assertThat(verifyStored().ok()).isTrue();
  }

  @Test
  void anIdleInterval_anchorsTheRecordsWrittenSinceTheLastCheckpoint() throws Exception {
    SqliteCloudStore store = open(1000, 50);
    store.auditLog().append("ops", "cert.issue", "device/gw-1", Map.of("serial", "01"));
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (verifyStored().unanchored() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    AuditVerifier.Report r = verifyStored();
    assertThat(r.summary()).isEqualTo("OK: 2 records (1 checkpoints), anchored through record 2");
  }

  @Test
  void theChainContinuesAcrossARestart_withTheSameKey() throws Exception {
    SqliteCloudStore first = open(2, 60_000);
    for (int i = 0; i < 3; i++) {
      first.auditLog().append("ops", "enroll", "device/gw-" + i, Map.of());
    }
    KeyPair key = AuditKeys.loadOrCreate(db.dir());
    first.close();
    opened.clear();
    SqliteCloudStore second = open(2, 60_000);
    second.auditLog().append("ops", "enroll", "device/gw-9", Map.of());

    assertThat(AuditKeys.loadOrCreate(db.dir()).getPublic()).isEqualTo(key.getPublic());
    List<AuditChain.Entry> log = second.auditLog().read(0, 100);
    // 1, 2, checkpoint, 3 | 4, checkpoint
    assertThat(log)
        .extracting(AuditChain.Entry::action)
        .containsExactly(
            "enroll", "enroll", "audit.checkpoint", "enroll", "enroll", "audit.checkpoint");
    assertThat(verifyStored().summary())
        .isEqualTo("OK: 6 records (2 checkpoints), anchored through record 6");
  }

  @Test
  void anEditedOrDeletedStoredRow_isReportedAtThatRecord() throws Exception {
    SqliteCloudStore store = open(1000, 60_000);
    for (int i = 0; i < 5; i++) {
      store.auditLog().append("ops", "command.queue", "device/gw-" + i, Map.of("name", "reboot"));
    }
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("UPDATE audit_log SET actor='someone-else' WHERE seq=3");
    }
    AuditVerifier.Report edited = verifyStored();
    assertThat(edited.badSeq()).isEqualTo(3);
    assertThat(edited.summary())
        .isEqualTo(
            "FAILED at record 3: its hash does not match its content (the record was changed)");

    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("DELETE FROM audit_log WHERE seq=3");
    }
    assertThat(verifyStored().summary())
        .isEqualTo(
            "FAILED at record 3: expected record 3 but found record 4 (a record is missing or out"
                + " of order)");
  }

  @Test
  void theSigningKey_isCreatedOwnerOnly_withItsPublicKeyBeside() throws Exception {
    KeyPair key = AuditKeys.loadOrCreate(db.dir());
    Path privateFile = db.dir().resolve(AuditKeys.PRIVATE_FILE);
    if (db.dir().getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(privateFile)))
          .isEqualTo("rw-------");
    }
    assertThat(AuditKeys.readPublic(db.dir().resolve(AuditKeys.PUBLIC_FILE)))
        .isEqualTo(key.getPublic());
    assertThat(Files.readString(privateFile)).startsWith("-----BEGIN PRIVATE KEY-----");
  }

  @Test
  void aCheckpointSignedWithAnotherKey_failsVerification() throws Exception {
    SqliteCloudStore store = open(1, 60_000);
    store.auditLog().append("ops", "apikey.create", "key/a", Map.of());
    AuditVerifier.Report r =
        store.auditLog().verify(AuditKeys.loadOrCreate(db.dir().resolve("other")).getPublic());
    assertThat(r.summary())
        .isEqualTo(
            "FAILED at record 2: checkpoint signature does not verify with the given public key");
  }
}

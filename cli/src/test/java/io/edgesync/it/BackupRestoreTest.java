package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.server.AuditFiles;
import io.edgesync.server.AuditVerifier;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An online backup of a running server (in its own process) that keeps taking a real agent's
 * writes, a restore into a new directory, and a server started on it: the data up to the backup is
 * all there, the audit chain verifies, and the device resumes, its records acknowledged after the
 * backup reported as one explicit not-retained gap.
 */
class BackupRestoreTest {
  private static final String DEVICE = "dev-backup";
  private static final String STREAM = "events";

  @TempDir Path dir;

  @Test
  void backupWhileWriting_restoreIntoNewDir_dataUpToTheBackupIsThere_andTheDeviceResumes()
      throws Exception {
    int port = Testbed.freePort();
    Path cloud = dir.resolve("cloud");
    Path backup = dir.resolve("backup");
    Path restored = dir.resolve("restored");
    ChildJvm server = startServer(port, cloud, "server-1");
    AtomicLong appended = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    try (EdgeAgent agent = EdgeAgent.open(Testbed.reliableAgent(DEVICE, port, dir))) {
      Thread producer = producer(agent, appended, stop);
      producer.start();
      Rest rest = Rest.admin(port, cloud);
      await().atMost(Duration.ofSeconds(30)).until(() -> checkpoint(rest) > 300);

      long beforeBackup = checkpoint(rest);
      CliRun.stdout("server", "backup", "--data-dir", cloud.toString(), "--to", backup.toString());
      long afterBackup = checkpoint(rest);
      // The server went on committing; the device's acked records pass the backup's.
      await().atMost(Duration.ofSeconds(30)).until(() -> checkpoint(rest) > afterBackup + 300);
      server.sigkill();

      String out =
          CliRun.stdout(
              "server", "restore", "--from", backup.toString(), "--data-dir", restored.toString());
      assertThat(out).contains("restored").contains("not_retained");
      server = startServer(port, restored, "server-2");
      Rest restoredRest = Rest.admin(port, restored); // the admin key came with the backup
      Thread.sleep(500); // appends go on against the restored server
      stop.set(true);
      producer.join();
      long total = appended.get();
      await().atMost(Duration.ofSeconds(60)).until(() -> checkpoint(restoredRest) == total);
      JsonNode gap = restoredRest.ok(restoredRest.get("/api/v1/devices/" + DEVICE));
      gap = gap.get("streams").get(0).get("gaps").get(0);
      assertThat(gap.get("reason").asText()).isEqualTo("not_retained");
      Rest.assertError(
          restoredRest.get(
              "/api/v1/devices/"
                  + DEVICE
                  + "/streams/"
                  + STREAM
                  + "/records/"
                  + gap.get("firstSequence").asLong()),
          404,
          "then lost it (restored from an older backup)");
      server.sigkill();
      server = null;

      checkRestoredStore(restored, beforeBackup, afterBackup, total);
    } finally {
      stop.set(true);
      if (server != null) {
        server.sigkill();
      }
    }
  }

  /**
   * Records 1..B (B: the backup's checkpoint, at least what was committed before the backup began)
   * are all there; B+1..A (acknowledged by the first server after the snapshot, pruned on the
   * device) is one not-retained gap; A+1..total all arrived again; the audit chain verifies and
   * records the restore.
   */
  private static void checkRestoredStore(
      Path restored, long beforeBackup, long afterBackup, long total) throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(restored.resolve(SyncServer.STORE_FILE))) {
      List<CloudStore.StoredGap> gaps = store.gaps(DEVICE, STREAM);
      assertThat(gaps).hasSize(1);
      CloudStore.StoredGap gap = gaps.get(0);
      assertThat(gap.reason()).isEqualTo(GapReason.GAP_REASON_NOT_RETAINED);
      long backupCheckpoint = gap.firstSequence() - 1;
      assertThat(backupCheckpoint).isBetween(beforeBackup, afterBackup);
      assertThat(gap.lastSequence()).isGreaterThan(afterBackup);
      List<Record> records = store.read(DEVICE, STREAM, 0, (int) total + 10);
      assertThat(records).hasSize((int) (total - (gap.lastSequence() - gap.firstSequence() + 1)));
      long expected = 1;
      for (Record r : records) {
        if (expected == gap.firstSequence()) {
          expected = gap.lastSequence() + 1;
        }
        assertThat(r.sequence()).isEqualTo(expected);
        assertThat(new String(r.payload(), UTF_8)).isEqualTo("{\"n\":" + expected + "}");
        expected++;
      }
      assertThat(expected - 1).isEqualTo(total);
      assertThat(store.auditLog().read(0, 100_000))
          .anySatisfy(e -> assertThat(e.action()).isEqualTo("store.restore"));
    }
    AuditVerifier.Report audit = AuditFiles.verifyStore(restored);
    assertThat(audit.ok()).as(audit.summary()).isTrue();
  }

  private ChildJvm startServer(int port, Path data, String name) throws Exception {
    ChildJvm c =
        ChildJvm.start(
            name,
            dir.resolve(name + ".log"),
            line -> {},
            PlainServerChild.class,
            Integer.toString(port),
            data.toString());
    c.awaitReady(Duration.ofSeconds(30));
    return c;
  }

  private static long checkpoint(Rest rest) {
    Rest.Reply r = rest.get("/api/v1/devices/" + DEVICE);
    if (r.status() != 200) {
      return 0;
    }
    for (JsonNode s : r.body().get("streams")) {
      if (s.get("stream").asText().equals(STREAM)) {
        return s.get("lastSequence").asLong();
      }
    }
    return 0;
  }

  private static Thread producer(EdgeAgent agent, AtomicLong appended, AtomicBoolean stop) {
    return new Thread(
        () -> {
          while (!stop.get()) {
            long n = appended.get() + 1;
            agent.append(STREAM, ("{\"n\":" + n + "}").getBytes(UTF_8));
            appended.set(n);
            if (n % 20 == 0) {
              sleep(10);
            }
          }
        },
        "producer");
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

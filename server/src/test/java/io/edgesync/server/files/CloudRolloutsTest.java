package io.edgesync.server.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.files.FileOutbox;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.server.AuditChain;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.StoreFile;
import io.edgesync.server.StoreKind;
import io.edgesync.server.files.FileStore.Rollout;
import io.edgesync.server.files.FileStore.TargetKind;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rollouts on a real SQLite store with time injected: admission at the rate, pause, resume, cancel,
 * the automatic pause on failures (audited), and a newer rollout of a path superseding an older one
 * for a device; the devices' {@link FileOutbox} offers exactly what is admitted and running.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class CloudRolloutsTest {
  private static final long T0 = 1_700_000_000_000L;

  @RegisterExtension final StoreFile db;
  private Path dir;
  private SqliteCloudStore store;
  private CloudFiles files;
  private final AtomicLong now = new AtomicLong(T0);

  CloudRolloutsTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  private final List<String> notified = new ArrayList<>();

  @BeforeEach
  void open() throws Exception {
    dir = db.dir();
    store = db.open();
    files = db.openFiles(store, now::get);
    files.onOffered(notified::addAll);
    for (int i = 1; i <= 10; i++) {
      store.registerDevice(String.format("dev-%02d", i), T0);
    }
  }

  @AfterEach
  void close() {
    files.close();
    store.close();
  }

  private long publish(String path, int bytes) throws Exception {
    byte[] data = new byte[bytes];
    new Random(bytes).nextBytes(data);
    return files
        .publish(
            new CloudFiles.PublishRequest(path, Map.of(), null, null, null, "ops"),
            new ByteArrayInputStream(data),
            now.get())
        .header()
        .getVersion();
  }

  private Rollout fleetRollout(String path, long version, int ratePerMin, int minReports) {
    return files.createRollout(
        new CloudFiles.RolloutRequest(
            path, version, TargetKind.FLEET, "", ratePerMin, 0.2, minReports),
        "ops",
        now.get());
  }

  private long admitted(long rollout) {
    return store.files().devices(rollout).stream().filter(d -> d.admittedAtMs() != null).count();
  }

  @Test
  void fleetRollout_admitsTheFirstDeviceAtOnce_thenAtItsRate_andOffersOnlyAdmittedDevices()
      throws Exception {
    long v = publish("firmware/gw.img", 300_000);
    Rollout r = fleetRollout("firmware/gw.img", v, 2, 5);
    assertThat(admitted(r.id())).isEqualTo(1);
    assertThat(notified).containsExactly("dev-01");

    now.addAndGet(29_999);
    files.tick(now.get());
    assertThat(admitted(r.id())).isEqualTo(1);
    now.addAndGet(1);
    files.tick(now.get());
    assertThat(admitted(r.id())).isEqualTo(2);
    now.addAndGet(60_000);
    files.tick(now.get());
    assertThat(admitted(r.id())).isEqualTo(4);

    List<FileOffer> offers = files.outbox("dev-01").offers(now.get(), 10);
    assertThat(offers).hasSize(1);
    FileOffer o = offers.get(0);
    assertThat(o.getTransferId()).isEqualTo("firmware/gw.img@1");
    assertThat(o.getRollout()).isEqualTo(Long.toString(r.id()));
    assertThat(o.getSignature().size()).isEqualTo(64);
    assertThat(o.getChunkCount())
        .isEqualTo(
            files.outbox("dev-01").manifest("firmware/gw.img", 1).orElseThrow().chunkCount());
    assertThat(files.outbox("dev-09").offers(now.get(), 10)).isEmpty(); // not admitted yet
  }

  @Test
  void pausedRollout_admitsNobodyAndOffersNothing_resumeContinuesAtItsRate_cancelEndsIt()
      throws Exception {
    long v = publish("models/det.onnx", 100_000);
    Rollout r = fleetRollout("models/det.onnx", v, 2, 5);
    files.pause(r.id(), "checking a report", "ops", now.get());
    now.addAndGet(3_600_000);
    files.tick(now.get());
    assertThat(admitted(r.id())).isEqualTo(1);
    assertThat(files.outbox("dev-01").offers(now.get(), 10)).isEmpty();

    files.resume(r.id(), "ops", now.get());
    assertThat(files.outbox("dev-01").offers(now.get(), 10)).hasSize(1);
    now.addAndGet(30_000);
    files.tick(now.get());
    assertThat(admitted(r.id())).as("no burst for the hour paused").isEqualTo(2);

    files.cancel(r.id(), null, "ops", now.get());
    assertThat(files.outbox("dev-01").offers(now.get(), 10)).isEmpty();
    assertThatThrownBy(() -> files.resume(r.id(), "ops", now.get()))
        .isInstanceOf(FileRefusal.class)
        .hasMessageContaining("is cancelled");
    assertThat(actions()).contains("rollout.create", "rollout.pause", "rollout.resume");
  }

  @Test
  void failuresOverTheShare_pauseTheRolloutWithItsReason_auditedAsTheServer() throws Exception {
    long v = publish("firmware/gw.img", 50_000);
    Rollout r = fleetRollout("firmware/gw.img", v, 1000, 3);
    now.addAndGet(60_000);
    files.tick(now.get());
    assertThat(admitted(r.id())).isEqualTo(10);

    report("dev-01", r, FileState.FILE_STATE_INSTALLED, "");
    report("dev-02", r, FileState.FILE_STATE_FAILED, "bad_signature: no trusted key");
    assertThat(store.files().rollout(r.id()).orElseThrow().state())
        .as("2 reports are under the minimum of 3")
        .isEqualTo(RolloutState.RUNNING);
    report("dev-03", r, FileState.FILE_STATE_FAILED, "install: disk full");

    Rollout after = store.files().rollout(r.id()).orElseThrow();
    assertThat(after.state()).isEqualTo(RolloutState.PAUSED);
    assertThat(after.reason()).contains("2 of 3 devices").contains("0.2");
    assertThat(files.outbox("dev-04").offers(now.get(), 10)).isEmpty();
    AuditChain.Entry pause =
        store.auditLog().read(0, 1000).stream()
            .filter(e -> e.action().equals("rollout.pause"))
            .findFirst()
            .orElseThrow();
    assertThat(pause.actor()).isEqualTo(CloudFiles.SERVER_ACTOR);
    assertThat(pause.details()).contains("2 of 3 devices");
    assertThat(store.files().devices(r.id()).get(2).reason()).isEqualTo("install: disk full");
  }

  @Test
  void aDevicesFailureReason_isStoredUpToItsLimit() throws Exception {
    long v = publish("firmware/gw.img", 50_000);
    Rollout r = fleetRollout("firmware/gw.img", v, 1000, 100);
    now.addAndGet(60_000);
    files.tick(now.get());
    report("dev-01", r, FileState.FILE_STATE_FAILED, "install_failed: " + "x".repeat(1 << 20));

    String stored = store.files().devices(r.id()).get(0).reason();
    assertThat(stored).startsWith("install_failed: xxx").endsWith("…");
    assertThat(stored).hasSize(CloudFiles.MAX_REPORT_REASON_CHARS);
  }

  @Test
  void devicesJoiningTheFleetOrGroupLater_areAddedAndAdmitted_othersAreNotTargeted()
      throws Exception {
    long v = publish("cfg/site.bin", 10_000);
    store.documents().setGroups("dev-03", List.of("north"));
    Rollout group =
        files.createRollout(
            new CloudFiles.RolloutRequest(
                "cfg/site.bin", v, TargetKind.GROUP, "north", 1000, 0.2, 5),
            "ops",
            now.get());
    Rollout fleet = fleetRollout("cfg/site.bin", v, 1000, 5);
    assertThat(store.files().devices(group.id()))
        .extracting(FileStore.RolloutDevice::device)
        .containsExactly("dev-03");

    store.registerDevice("dev-new", now.get());
    store.documents().setGroups("dev-07", List.of("north"));
    now.addAndGet(60_000);
    files.tick(now.get());
    assertThat(store.files().devices(group.id()))
        .extracting(FileStore.RolloutDevice::device)
        .containsExactly("dev-03", "dev-07");
    assertThat(store.files().devices(fleet.id()))
        .filteredOn(d -> d.device().equals("dev-new"))
        .extracting(FileStore.RolloutDevice::state)
        .containsExactly(DeviceRolloutState.OFFERED);
  }

  @Test
  void reportAfterAFinalState_changesNothing() throws Exception {
    long v = publish("a/b", 10_000);
    Rollout r = fleetRollout("a/b", v, 1, 5);
    report("dev-01", r, FileState.FILE_STATE_INSTALLED, "");
    report("dev-01", r, FileState.FILE_STATE_DOWNLOADING, "");
    assertThat(store.files().devices(r.id()).get(0).state())
        .isEqualTo(DeviceRolloutState.INSTALLED);
    assertThat(files.outbox("dev-01").offers(now.get(), 10)).isEmpty();
  }

  @Test
  void newerRolloutOfThePath_supersedesTheOlderForADevice_andOnlyTheNewestIsOffered()
      throws Exception {
    long v1 = publish("firmware/gw.img", 20_000);
    long v2 = publish("firmware/gw.img", 30_000);
    Rollout r1 =
        files.createRollout(
            new CloudFiles.RolloutRequest(
                "firmware/gw.img", v1, TargetKind.DEVICE, "dev-05", 10, 0.2, 5),
            "ops",
            now.get());
    files.createRollout(
        new CloudFiles.RolloutRequest(
            "firmware/gw.img", v2, TargetKind.DEVICE, "dev-05", 10, 0.2, 5),
        "ops",
        now.get());
    List<FileOffer> offers = files.outbox("dev-05").offers(now.get(), 10);
    assertThat(offers).extracting(FileOffer::getTransferId).containsExactly("firmware/gw.img@2");
    assertThat(store.files().devices(r1.id()).get(0).state())
        .isEqualTo(DeviceRolloutState.SUPERSEDED);
  }

  @Test
  void badRollouts_areRefusedNamingTheField_andNothingIsStored() throws Exception {
    long v = publish("a/b", 10_000);
    assertThatThrownBy(
            () ->
                files.createRollout(
                    new CloudFiles.RolloutRequest("a/b", v, TargetKind.FLEET, "", 0, 0.2, 5),
                    "ops",
                    now.get()))
        .hasMessageContaining("ratePerMinute");
    assertThatThrownBy(
            () ->
                files.createRollout(
                    new CloudFiles.RolloutRequest("a/b", v, TargetKind.FLEET, "", 5, 1.5, 5),
                    "ops",
                    now.get()))
        .hasMessageContaining("maxFailureShare");
    assertThatThrownBy(
            () ->
                files.createRollout(
                    new CloudFiles.RolloutRequest("a/b", 9, TargetKind.FLEET, "", 5, 0.2, 5),
                    "ops",
                    now.get()))
        .isInstanceOf(FileRefusal.class)
        .hasMessageContaining("no version 9");
    assertThat(store.files().rollouts(10)).isEmpty();
    assertThat(actions()).doesNotContain("rollout.create");
  }

  private void report(String device, Rollout r, FileState state, String reason) {
    files
        .outbox(device)
        .onReport(
            FileReport.newBuilder()
                .setTransferId(r.path() + "@" + r.version())
                .setRollout(Long.toString(r.id()))
                .setState(state)
                .setBytesDone(state == FileState.FILE_STATE_INSTALLED ? 50_000 : 0)
                .setReason(reason)
                .build(),
            now.get());
  }

  private List<String> actions() {
    return store.auditLog().read(0, 1000).stream().map(AuditChain.Entry::action).toList();
  }
}

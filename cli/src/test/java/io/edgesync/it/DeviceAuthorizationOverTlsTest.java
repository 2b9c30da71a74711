package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Heartbeat;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device authorization over the real path: a server on {@code wss://} with certificates from the
 * built-in CA and a real SQLite store; a device connects with its own certificate. It writes its
 * own scope and {@code fleet/notes} (device-writable); its writes to another device's scope, to
 * {@code fleet/config} and to a group it is not in are refused one by one and store nothing; it
 * gets only its own documents and commands, cannot report another device's command, and appends
 * only to its own streams. A real agent's refused change is marked refused and not retried.
 */
class DeviceAuthorizationOverTlsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration DAY = Duration.ofDays(1);

  @TempDir Path dir;
  private TestPki pki;
  private CertificateAuthority ca;
  private SyncServer server;
  private EdgeAgent agent;

  @BeforeEach
  void startServer() throws Exception {
    pki = TestPki.create(dir);
    ca = pki.ca();
    server =
        SyncServer.start(
            ServerConfig.fromYaml(
                    "server: {port: 0, host: 127.0.0.1, data_dir: \""
                        + dir.resolve("cloud")
                        + "\"}\n"
                        + "documents:\n"
                        + "  collections: {config: {strategy: cloud_wins}, notes: {}}\n"
                        + "  device_writable: [fleet/notes]\n")
                .withTls(pki.serverTls()));
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, server);
  }

  @Test
  void aDeviceWithItsOwnCertificate_isRefusedEverythingOfOthers_changeByChange_andNothingIsStored()
      throws Exception {
    server.store().registerDevice("gw-2", 0);
    server.documents().store().setGroups("gw-2", List.of("south"));
    server.documents().put("device:gw-2", "config", "site", json("{\"gw2\":1}"), null);
    server.documents().put("group:south", "config", "site", json("{\"south\":1}"), null);
    server.documents().put("fleet", "config", "site", json("{\"fleet\":1}"), null);
    CommandStore commands = server.store().commands();
    CommandStore.StoredCommand theirs =
        commands.create("gw-2", "reboot", json("{}"), 60_000, System.currentTimeMillis());
    CommandStore.StoredCommand mine =
        commands.create("gw-1", "ping", json("{}"), 60_000, System.currentTimeMillis());

    RawClient gw1 = RawClient.connect(server.syncUrl(), deviceContext("gw-1"));
    gw1.send(Frame.newBuilder().setHello(RawClient.hello("gw-1")));
    assertThat(gw1.next().hasWelcome()).isTrue();
    List<Frame> served = until(gw1, Frame::hasCommand);
    assertThat(served)
        .flatExtracting(f -> f.getDocUpdates().getUpdatesList())
        .extracting(u -> u.getScope() + "/" + u.getKey())
        .as("only the fleet's document: gw-2's and the group's are not served")
        .containsExactly("fleet/site");
    assertThat(served.get(served.size() - 1).getCommand().getId()).isEqualTo(mine.id());

    Hlc h = new Hlc(System.currentTimeMillis(), 0, "gw-1");
    gw1.send(
        Frame.newBuilder()
            .setDocChanges(
                DocChanges.newBuilder()
                    .addChanges(change(1, "device", "config", "own", h))
                    .addChanges(change(2, "device:gw-2", "config", "site", h))
                    .addChanges(change(3, "fleet", "config", "site", h))
                    .addChanges(change(4, "group:south", "config", "site", h))
                    .addChanges(change(5, "fleet", "notes", "shared", h))));
    DocAck ack = until(gw1, Frame::hasDocAck).stream().reduce((a, b) -> b).get().getDocAck();
    assertThat(ack.getChangeSeq()).isEqualTo(5);
    assertThat(ack.getRefusedList())
        .extracting(DocRefusal::getChangeSeq)
        .containsExactly(2L, 3L, 4L);
    assertThat(ack.getRefusedList())
        .extracting(DocRefusal::getCode)
        .containsOnly(ErrorCode.NOT_AUTHORIZED);
    assertThat(ack.getRefused(0).getReason())
        .isEqualTo(
            "device 'gw-1' may not write scope 'device:gw-2'; it writes its own scope and reads"
                + " [device:gw-1, fleet]");
    assertThat(value("device:gw-2", "config", "site")).isEqualTo("{\"gw2\":1}");
    assertThat(value("fleet", "config", "site")).isEqualTo("{\"fleet\":1}");
    assertThat(value("group:south", "config", "site")).isEqualTo("{\"south\":1}");
    assertThat(value("device:gw-1", "config", "own")).isEqualTo("{\"v\":1}");
    assertThat(value("fleet", "notes", "shared")).isEqualTo("{\"v\":5}");

    gw1.send(
        Frame.newBuilder()
            .setCommandStatus(
                CommandStatus.newBuilder()
                    .setId(theirs.id())
                    .setState(CommandState.COMMAND_SUCCEEDED)));
    Frame refusal = gw1.next();
    assertThat(refusal.getError().getCode()).isEqualTo(ErrorCode.NOT_AUTHORIZED);
    assertThat(refusal.getError().getFatal()).isFalse();
    assertThat(commands.command(theirs.id(), System.currentTimeMillis()).state())
        .isEqualTo(CommandStore.QUEUED);

    gw1.send(FrameCodec.encode(batch("telemetry")));
    assertThat(gw1.next().getAck().getSequence()).isEqualTo(1);
    assertThat(server.store().checkpoints("gw-2")).as("appends go to gw-1's streams").isEmpty();
    assertThat(server.store().checkpoints("gw-1")).containsEntry("telemetry", 1L);

    gw1.send(Frame.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSentAtMs(1)));
    assertThat(gw1.next().getHeartbeat().getReply()).as("the session is still open").isTrue();
  }

  @Test
  void anAgentsChangeToAReadOnlySharedCollection_isMarkedRefused_revertedAndNotRetried()
      throws Exception {
    write(ca.issueDevice("gw-1", DAY), "gw-1");
    agent = EdgeAgent.open(agentConfig("gw-1"));
    agent.documents().put("fleet", "config", "site", Rest.json("{\"mine\":1}"));
    agent.documents().put("fleet", "notes", "shared", Rest.json("{\"mine\":2}"));

    await()
        .atMost(WAIT)
        .until(
            () ->
                agent.status().documents().refused() == 1
                    && agent.status().documents().pending() == 0);
    assertThat(agent.documents().get("fleet", "config", "site")).as("reverted").isEmpty();
    assertThat(server.documents().store().get("fleet", "config", "site")).isNull();
    assertThat(value("fleet", "notes", "shared")).isEqualTo("{\"mine\":2}");

    // Reconnecting does not send it again (it is no longer pending) and stores nothing.
    agent.close();
    agent = EdgeAgent.open(agentConfig("gw-1"));
    await().atMost(WAIT).until(() -> server.isConnected("gw-1"));
    assertThat(agent.status().documents().refused()).isEqualTo(1);
    assertThat(server.documents().store().get("fleet", "config", "site")).isNull();
  }

  private String value(String scope, String collection, String key) {
    DocumentStore.StoredDoc d = server.documents().store().get(scope, collection, key);
    return d == null || d.value() == null ? null : new String(d.value(), UTF_8);
  }

  private static byte[] json(String s) {
    return s.getBytes(UTF_8);
  }

  /** Reads frames until one matches; returns them all, that one last. */
  private static List<Frame> until(RawClient c, java.util.function.Predicate<Frame> last)
      throws Exception {
    List<Frame> out = new ArrayList<>();
    while (true) {
      Frame f = c.next();
      out.add(f);
      if (last.test(f)) {
        return out;
      }
    }
  }

  private static DocChange change(long seq, String scope, String collection, String key, Hlc h) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setScope(scope)
        .setCollection(collection)
        .setKey(key)
        .setHlc(h.toWire())
        .setValue(ByteString.copyFromUtf8("{\"v\":" + seq + "}"))
        .build();
  }

  private static Frame batch(String stream) {
    byte[] payload = "{}".getBytes(UTF_8);
    byte[] layout = new byte[2 + payload.length];
    layout[1] = (byte) payload.length;
    System.arraycopy(payload, 0, layout, 2, payload.length);
    return Frame.newBuilder()
        .setBatch(
            RecordBatch.newBuilder()
                .setStream(stream)
                .setFirstSequence(1)
                .setCount(1)
                .setPayload(ByteString.copyFrom(layout)))
        .build();
  }

  private SSLContext deviceContext(String device) throws Exception {
    return pki.deviceContext(device);
  }

  private AgentConfig agentConfig(String deviceId) {
    return pki.agentConfig(
        server.syncUrl(), deviceId, deviceId, "documents: {collections: [config, notes]}\n");
  }

  private void write(KeyAndCertificate issued, String name) throws Exception {
    pki.write(issued, name);
  }
}

package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AgentStatus;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.server.AdmissionLimits;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission pacing over real mutual TLS ({@code server.admission}): a server that admits fewer
 * sessions per second than devices arrive refuses the surplus Hellos with RETRY_LATER, before any
 * store work, and real agents come back after the time it names until every one is admitted.
 */
class AdmissionPacingTest {

  @TempDir Path dir;
  private TestPki pki;
  private SyncServer server;
  private final List<EdgeAgent> agents = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agents.toArray(new AutoCloseable[0]));
    Testbed.closeAll(server);
  }

  @Test
  void helloOverTheRate_isRefusedWithRetryLater_andNothingIsStored() throws Exception {
    startServer(new AdmissionLimits(8, 1, 60_000)); // a burst of one session
    RawClient first = RawClient.connect(server.syncUrl(), deviceContext("gw-1"));
    first.send(Frame.newBuilder().setHello(RawClient.hello("gw-1")));
    assertThat(first.next().hasWelcome()).isTrue();

    RawClient second = RawClient.connect(server.syncUrl(), deviceContext("gw-2"));
    second.send(Frame.newBuilder().setHello(RawClient.hello("gw-2")));
    Frame refusal = second.next();

    assertThat(refusal.getError().getCode()).isEqualTo(ErrorCode.RETRY_LATER);
    assertThat(refusal.getError().getFatal()).isTrue();
    assertThat(refusal.getError().getRetryAfterMs()).isBetween(1, 1_000);
    assertThat(refusal.getError().getMessage())
        .startsWith("the server admits 1 sessions/s (max_sessions_per_s); connect again after ");
    assertThat(second.closed.get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(server.store().device("gw-2")).isEmpty();
    assertThat(server.isConnected("gw-2")).isFalse();
    assertThat(server.sessionsRetryLater()).isEqualTo(1);
  }

  @Test
  void agentsBeyondTheRate_retryAfterTheServersTime_andAllAreAdmitted() throws Exception {
    int devices = 8;
    startServer(new AdmissionLimits(1, 1, 60_000)); // one at a time, one per second
    for (int i = 0; i < devices; i++) {
      agents.add(EdgeAgent.open(agentConfig("gw-" + i)));
    }
    for (EdgeAgent agent : agents) {
      agent.append("telemetry", Testbed.payload(1));
    }

    // Which agents said in their status that the server paces admissions (watched all along: a
    // later error, say a heartbeat timeout on a loaded machine, would replace the text).
    Set<String> toldToWait = ConcurrentHashMap.newKeySet();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              for (EdgeAgent a : agents) {
                AgentStatus s = a.status();
                if (s.lastError() != null
                    && s.lastError()
                        .message()
                        .startsWith("the server is pacing admissions (RETRY_LATER: ")) {
                  toldToWait.add(s.deviceId());
                }
              }
              return agents.stream().allMatch(a -> server.isConnected(a.status().deviceId()));
            });
    for (int i = 0; i < devices; i++) {
      String device = "gw-" + i;
      await().atMost(Duration.ofSeconds(10)).until(() -> stored(device) == 1);
    }
    // The agents open one after another (each opens its store first), and the token bucket
    // refills meanwhile: on a slow machine a few find a token and are admitted at once.
    assertThat(toldToWait).hasSizeGreaterThanOrEqualTo(devices / 2);
    assertThat(server.sessionsRetryLater()).isGreaterThanOrEqualTo(toldToWait.size());
  }

  private int stored(String device) {
    return server.store().read(device, "telemetry", 0, 10).size();
  }

  private void startServer(AdmissionLimits limits) throws Exception {
    pki = TestPki.create(dir);
    server =
        SyncServer.start(
            Testbed.serverConfig(dir, 0).withTls(pki.serverTls()).withAdmission(limits));
  }

  private SSLContext deviceContext(String device) throws Exception {
    return pki.deviceContext(device);
  }

  private AgentConfig agentConfig(String deviceId) throws Exception {
    pki.writeDevice(deviceId);
    return pki.agentConfig(server.syncUrl(), deviceId, deviceId, "");
  }
}

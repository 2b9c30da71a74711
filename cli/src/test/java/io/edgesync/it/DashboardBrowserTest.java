package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.Document;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The dashboard in a real headless Chromium against a real server and two real agents over real
 * sockets: an operator logs in with an API key, filters the fleet, opens a device and resolves a
 * manual conflict (checked over REST); a viewer sees the same conflict but cannot resolve it, in
 * the page and at the server. Screenshots go to target/dashboard-*.png.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardBrowserTest {
  private static final String BASE = "{\"a\":0,\"b\":0,\"c\":0}";
  private static final String CLOUD = "{\"a\":1,\"b\":0,\"c\":3}";
  private static final String EDGE = "{\"a\":2,\"b\":5,\"c\":0}";

  private SyncServer server;
  private Rest admin;
  private TcpRelay relay;
  private EdgeAgent devA; // behind a relay we cut, to edit while partitioned
  private EdgeAgent devB;
  private String operatorKey;
  private String viewerKey;
  private long forOperator; // the open conflict the operator resolves by taking the edge's value
  private long forViewer; // the one the viewer may only look at
  private long toEdit; // the one the operator resolves with a value of their own

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Browser.assumeInstalled();
    server =
        Testbed.startServer(
            dir,
            "documents:\n"
                + "  collections:\n"
                + "    mn: {strategy: manual}\n"
                + "  device_writable: [\"fleet/*\"]\n");
    admin = new Rest(server);
    relay = new TcpRelay(server.port());
    devA = Testbed.documentAgent("dev-a", relay.port(), Clock.SYSTEM, dir);
    devB = Testbed.documentAgent("dev-b", server.port(), Clock.SYSTEM, dir);
    devB.append("telemetry", "{\"t\":21.5}".getBytes(UTF_8));
    operatorKey = createKey("ops", "operator");
    viewerKey = createKey("watcher", "viewer");
    List<Long> conflicts = manualConflictsFromDevA();
    forOperator = conflicts.get(0);
    forViewer = conflicts.get(1);
    toEdit = conflicts.get(2);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> admin.ok(admin.get("/api/v1/devices/dev-b")).get("streams").size() == 1);
  }

  @AfterAll
  void stop() throws Exception {
    Testbed.closeAll(devA, devB, relay, server);
  }

  @Test
  void operator_filtersTheFleet_opensADevice_andResolvesAConflict() throws Exception {
    try (Browser browser = Browser.open(server.port())) {
      browser.login(operatorKey);
      assertThat(browser.driver.findElement(By.id("who-role")).getText()).isEqualTo("operator");
      browser.waitText(By.id("fleet-count"), "2 of 2 devices");
      assertThat(shownDevices(browser)).containsExactly("dev-a", "dev-b");
      // The KPI panel and the alerts come from the server's own routes, with both agents' reports.
      browser.waitText(By.id("kpis"), "2 reporting");
      assertThat(
              browser
                  .driver
                  .findElement(By.cssSelector("[data-kpi='syncSuccessRate'] .value"))
                  .getText())
          .matches("[0-9.]+ %");
      assertThat(browser.driver.findElement(By.id("alerts")).getText())
          .doesNotContain("not available");

      browser.driver.findElement(By.id("fleet-search")).sendKeys("dev-b");
      browser.waitText(By.id("fleet-count"), "1 of 2 devices");
      assertThat(shownDevices(browser)).containsExactly("dev-b");
      browser.screenshot("fleet-filtered");

      browser.driver.findElement(By.cssSelector("tr[data-device='dev-b']")).click();
      browser.waitText(By.id("device-title"), "dev-b");
      browser.waitText(By.id("device-state"), "connected");
      browser.waitText(By.id("device-streams"), "telemetry");
      assertThat(browser.all(By.id("command-form"))).as("operators may send commands").hasSize(1);
      browser.screenshot("device");

      // Bandwidth of one device: its stored wire counters (the telemetry record's frame).
      long frameBytes =
          admin.ok(admin.get("/api/v1/devices/dev-b")).get("wire").get("frameBytes").asLong();
      assertThat(frameBytes).isPositive();
      browser.go("#/bandwidth/dev-b");
      browser.waitText(By.id("bandwidth-device-chart"), "on the wire for");
      assertThat(browser.driver.findElement(By.id("bandwidth-device-chart")).getText())
          .contains("total " + frameBytes + " B on the wire");

      browser.go("#/conflicts/" + forOperator);
      browser.waitVisible(By.id("resolve-edge"));
      // a: changed on both sides, differently; b: changed on the edge only.
      assertThat(field(browser, "side-edge", "a").getAttribute("class")).contains("conflict");
      assertThat(field(browser, "side-edge", "b").getAttribute("class")).contains("changed-edge");
      assertThat(field(browser, "side-cloud", "c").getAttribute("class")).contains("changed-cloud");
      assertThat(field(browser, "side-base", "b").getAttribute("class")).doesNotContain("changed");
      browser.screenshot("conflict");
      browser.driver.findElement(By.id("resolve-edge")).click();
      browser.waitText(By.id("conflict-state"), "resolved");
      browser.waitText(By.id("audit-verify"), "verified");
    }
    JsonNode c = admin.ok(admin.get("/api/v1/conflicts/" + forOperator));
    assertThat(c.get("status").asText()).isEqualTo("resolved");
    assertThat(c.get("outcome").asText()).isEqualTo("edge");
    assertThat(c.get("resolvedBy").asText()).as("the key that resolved it").isEqualTo("ops");
    assertThat(admin.ok(admin.get("/api/v1/fleet/docs/mn/k0")).get("value"))
        .isEqualTo(Rest.json(EDGE));
  }

  @Test
  void operator_resolvesAConflictWithAnEditedValue() throws Exception {
    try (Browser browser = Browser.open(server.port())) {
      browser.login(operatorKey);
      browser.go("#/conflicts/" + toEdit);
      browser.waitVisible(By.id("resolve-edit")).click();
      WebElement editor = browser.waitVisible(By.id("resolve-value"));
      editor.clear();
      editor.sendKeys("{\"a\": 9}");
      browser.driver.findElement(By.id("resolve-save")).click();
      browser.waitText(By.id("conflict-state"), "resolved");
    }
    JsonNode c = admin.ok(admin.get("/api/v1/conflicts/" + toEdit));
    assertThat(c.get("outcome").asText()).isEqualTo("value");
    assertThat(c.get("resolvedBy").asText()).isEqualTo("ops");
    assertThat(admin.ok(admin.get("/api/v1/fleet/docs/mn/k2")).get("value"))
        .isEqualTo(Rest.json("{\"a\":9}"));
  }

  @Test
  void viewer_seesTheConflict_butCannotResolveIt() throws Exception {
    try (Browser browser = Browser.open(server.port())) {
      browser.login(viewerKey);
      assertThat(browser.driver.findElement(By.id("who-role")).getText()).isEqualTo("viewer");
      browser.go("#/conflicts/" + forViewer);
      browser.waitVisible(By.id("resolve-readonly"));
      assertThat(browser.driver.findElement(By.id("side-edge")).getText()).contains("\"b\": 5");
      for (String button : List.of("resolve-edge", "resolve-cloud", "resolve-edit")) {
        assertThat(browser.driver.findElement(By.id(button)).isEnabled()).as(button).isFalse();
      }
      browser.screenshot("conflict-viewer");
      browser.go("#/device/dev-b");
      browser.waitText(By.id("device-state"), "connected");
      assertThat(browser.all(By.id("command-form"))).as("no command form for viewers").isEmpty();
    }
    Rest viewer = admin.withKey(viewerKey);
    Rest.assertError(
        viewer.post("/api/v1/conflicts/" + forViewer + "/resolve", "{\"take\":\"edge\"}"),
        403,
        "needs role operator");
    assertThat(admin.ok(admin.get("/api/v1/conflicts/" + forViewer)).get("status").asText())
        .isEqualTo("open");
  }

  private static List<String> shownDevices(Browser browser) {
    return browser.all(By.cssSelector("#fleet-rows tr")).stream()
        .map(tr -> tr.getAttribute("data-device"))
        .collect(Collectors.toList());
  }

  private static WebElement field(Browser browser, String side, String field) {
    return browser.driver.findElement(
        By.cssSelector("#" + side + " span[data-field='" + field + "']"));
  }

  private String createKey(String name, String role) {
    return admin
        .ok(admin.post("/api/v1/keys", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}"))
        .get("key")
        .asText();
  }

  /**
   * Fleet documents mn/k0, k1, k2 at v1 on dev-a; the link cut; the cloud and dev-a edit them; the
   * link healed: three open manual conflicts, in key order.
   */
  private List<Long> manualConflictsFromDevA() throws Exception {
    List<String> keys = List.of("k0", "k1", "k2");
    for (String k : keys) {
      long v1 = admin.ok(admin.put("/api/v1/fleet/docs/mn/" + k, BASE)).get("version").asLong();
      await().atMost(Duration.ofSeconds(20)).until(() -> version(k) == v1);
    }
    relay.cut();
    for (String k : keys) {
      admin.ok(admin.put("/api/v1/fleet/docs/mn/" + k, CLOUD));
      devA.documents().put("fleet", "mn", k, Rest.json(EDGE));
    }
    relay.heal();
    devA.syncNow();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                admin.ok(admin.get("/api/v1/conflicts?status=open")).get("conflicts").size() == 3);
    Map<String, Long> byKey = new TreeMap<>();
    for (JsonNode c : admin.ok(admin.get("/api/v1/conflicts?status=open")).get("conflicts")) {
      byKey.put(c.get("key").asText(), c.get("id").asLong());
    }
    return List.copyOf(byKey.values());
  }

  private long version(String key) {
    return devA.documents().get("fleet", "mn", key).map(Document::version).orElse(-1L);
  }
}

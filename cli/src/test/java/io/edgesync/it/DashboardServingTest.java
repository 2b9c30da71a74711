package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.server.SyncServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the dashboard stands on, over real HTTP and without a browser (so it runs where Chromium is
 * missing): the server serves its files from the jar with a policy that lets only its own scripts
 * run, and GET /api/v1/whoami tells a key its name, role and groups.
 */
class DashboardServingTest {
  @TempDir Path dir;
  private SyncServer server;
  private Rest admin;

  @BeforeEach
  void start() {
    server = Testbed.startServer(dir, "");
    admin = new Rest(server);
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(server);
  }

  @Test
  void dashboardFiles_areServedFromTheJar_withoutAKey_andRunOnlyTheServersOwnScripts() {
    Rest anonymous = admin.withKey(null);
    HttpResponse<String> page = anonymous.getText("/dashboard/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<script type=\"module\" src=\"/dashboard/js/app.js\">");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("default-src 'self'")
        .contains("frame-ancestors 'none'");
    for (String file :
        new String[] {
          "app.js", "api.js", "fleet.js", "device.js", "conflicts.js", "bandwidth.js"
        }) {
      HttpResponse<String> js = anonymous.getText("/dashboard/js/" + file);
      assertThat(js.statusCode()).as(file).isEqualTo(200);
      assertThat(js.headers().firstValue("Content-Type").orElseThrow()).contains("javascript");
      assertThat(js.body()).as("%s fetches nothing from elsewhere", file).doesNotContain("http");
    }
    HttpResponse<String> root = anonymous.getText("/");
    assertThat(root.statusCode()).isEqualTo(302);
    assertThat(root.headers().firstValue("Location").orElseThrow()).isEqualTo("/dashboard/");
  }

  @Test
  void whoami_tellsEachKeyItsNameRoleAndGroups_andRefusesNoKeyWith401() {
    Rest viewer = admin.withKey(key("{\"name\":\"watcher\",\"role\":\"viewer\"}"));
    assertThat(viewer.ok(viewer.get("/api/v1/whoami")).get("role").asText()).isEqualTo("viewer");
    assertThat(viewer.ok(viewer.get("/api/v1/whoami")).get("name").asText()).isEqualTo("watcher");
    assertThat(admin.ok(admin.get("/api/v1/whoami")).get("role").asText()).isEqualTo("admin");
    // A key limited to groups may ask who it is (every other cross-device route refuses it).
    Rest north =
        admin.withKey(key("{\"name\":\"north-ops\",\"role\":\"operator\",\"groups\":[\"north\"]}"));
    assertThat(north.ok(north.get("/api/v1/whoami")).get("groups").toString())
        .isEqualTo("[\"north\"]");
    assertThat(north.ok(north.get("/api/v1/whoami")).has("key")).as("no secret").isFalse();
    Rest.assertError(admin.withKey(null).get("/api/v1/whoami"), 401, "missing API key");
    Rest.assertError(admin.withKey("esk_wrong").get("/api/v1/whoami"), 401, "unknown API key");
  }

  private String key(String body) {
    return admin.ok(admin.post("/api/v1/keys", body)).get("key").asText();
  }
}

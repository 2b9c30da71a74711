package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.server.ApiKeys.Role;
import org.junit.jupiter.api.Test;

/** The route → role table: what each kind of route needs, and that an unplaced route is closed. */
class ApiAuthTest {
  @Test
  void reads_needViewer_writesOfDocumentsCommandsAndResolutions_needOperator() {
    assertThat(ApiAuth.required("GET", "/api/v1/devices")).isEqualTo(Role.VIEWER);
    assertThat(ApiAuth.required("GET", "/api/v1/audit")).isEqualTo(Role.VIEWER);
    for (String scope :
        new String[] {"/api/v1/devices/{id}", "/api/v1/fleet", "/api/v1/groups/{group}"}) {
      assertThat(ApiAuth.required("PUT", scope + "/docs/{collection}/{key}"))
          .isEqualTo(Role.OPERATOR);
      assertThat(ApiAuth.required("DELETE", scope + "/docs/{collection}/{key}"))
          .isEqualTo(Role.OPERATOR);
    }
    assertThat(ApiAuth.required("POST", "/api/v1/devices/{id}/commands")).isEqualTo(Role.OPERATOR);
    assertThat(ApiAuth.required("POST", "/api/v1/conflicts/{cid}/resolve"))
        .isEqualTo(Role.OPERATOR);
  }

  @Test
  void publishingFilesAndControllingRollouts_needOperator_readingThemViewer() {
    for (String write :
        new String[] {
          "/api/v1/files",
          "/api/v1/rollouts",
          "/api/v1/rollouts/{id}/pause",
          "/api/v1/rollouts/{id}/resume",
          "/api/v1/rollouts/{id}/cancel"
        }) {
      assertThat(ApiAuth.required("POST", write)).as(write).isEqualTo(Role.OPERATOR);
    }
    assertThat(ApiAuth.required("GET", "/api/v1/files/download")).isEqualTo(Role.VIEWER);
    assertThat(ApiAuth.required("GET", "/api/v1/rollouts/{id}")).isEqualTo(Role.VIEWER);
    assertThat(ApiAuth.required("GET", "/api/v1/uploads/download")).isEqualTo(Role.VIEWER);
  }

  @Test
  void keysAndDeviceGroups_needAdmin_evenToRead() {
    assertThat(ApiAuth.required("GET", "/api/v1/keys")).isEqualTo(Role.ADMIN);
    assertThat(ApiAuth.required("POST", "/api/v1/keys")).isEqualTo(Role.ADMIN);
    assertThat(ApiAuth.required("DELETE", "/api/v1/keys/{name}")).isEqualTo(Role.ADMIN);
    assertThat(ApiAuth.required("PUT", "/api/v1/devices/{id}/groups")).isEqualTo(Role.ADMIN);
  }

  @Test
  void aWritingRouteMissingFromTheTable_needsAdmin() {
    assertThat(ApiAuth.required("POST", "/api/v1/something/new")).isEqualTo(Role.ADMIN);
    assertThat(ApiAuth.required("PATCH", "/api/v1/fleet/docs/{collection}/{key}"))
        .isEqualTo(Role.ADMIN);
  }

  @Test
  void eachRole_allowsWhatTheRolesBeforeItAllow_andNoMore() {
    assertThat(Role.ADMIN.allows(Role.OPERATOR)).isTrue();
    assertThat(Role.OPERATOR.allows(Role.VIEWER)).isTrue();
    assertThat(Role.OPERATOR.allows(Role.ADMIN)).isFalse();
    assertThat(Role.VIEWER.allows(Role.OPERATOR)).isFalse();
  }
}

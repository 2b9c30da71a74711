package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.support.ConfigException;
import org.junit.jupiter.api.Test;

class ServerConfigTest {
  @Test
  void validConfigLoads() {
    ServerConfig c =
        ServerConfig.fromYaml(
            "server: {port: 9000, data_dir: /tmp/x, unknown_devices: reject, max_frame_bytes: 2097152}");
    assertThat(c.port()).isEqualTo(9000);
    assertThat(c.policy().autoRegister()).isFalse();
    assertThat(c.policy().maxFrameBytes()).isEqualTo(2097152);
  }

  @Test
  void invalidValues_nameKeyValueAndAllowed() {
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: {unknown_devices: maybe}"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "config error at 'server.unknown_devices': 'maybe' is not allowed; allowed: register, reject");
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: {port: 70000}"))
        .hasMessageContaining("'server.port'")
        .hasMessageContaining("70000 is out of range; allowed: 0..65535");
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: {prot: 1}"))
        .hasMessageContaining("'server.prot': unknown key; allowed here:");
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: {max_frame_bytes: big}"))
        .hasMessageContaining("expected an integer (bytes)")
        .hasMessageContaining("\"big\" (a string)");
  }

  @Test
  void duplicateKey_isAnErrorNotASilentOverride() {
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: {port: 1}\nserver: {port: 2}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Duplicate field 'server'");
  }
}

package io.edgesync.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's {@code mqtt:} section: defaults, every key, and errors that name the key. */
class MqttConfigTest {
  @TempDir Path dir;

  private AgentConfig load(String mqtt) {
    return AgentConfig.fromYaml(
        "device: {id: gw-1}\nsync: {offline: {local_storage_path: \"" + dir + "/data\"}}\n" + mqtt);
  }

  private String error(String mqtt) {
    InvalidConfigException e = catchThrowableOfType(InvalidConfigException.class, () -> load(mqtt));
    assertThat(e).as("an error for:\n" + mqtt).isNotNull();
    return e.getMessage();
  }

  @Test
  void noMqttSection_isOff_withTheDocumentedDefaults() {
    MqttSettings m = load("").mqtt();
    assertThat(m.enabled()).isFalse();
    assertThat(m.host()).isEqualTo("127.0.0.1");
    assertThat(m.port()).isEqualTo(1883);
    assertThat(m.maxInflightMessages()).isEqualTo(1000);
    assertThat(m.maxPacketBytes()).isEqualTo(65_536);
    assertThat(m.prefix()).isEqualTo("edgesync/");
    assertThat(m.credentialsRequired()).isFalse();
  }

  @Test
  void everyKey_isRead() throws Exception {
    Path users = Files.writeString(dir.resolve("users"), "# comment\nalice:s3cret\nbob:pw\n");
    MqttSettings m =
        load("mqtt:\n"
                + "  enabled: true\n"
                + "  host: 0.0.0.0\n"
                + "  port: 1884\n"
                + "  max_inflight_messages: 50\n"
                + "  max_packet_bytes: 8192\n"
                + "  max_connections: 7\n"
                + "  connect_timeout_ms: 2000\n"
                + "  users_file: "
                + users
                + "\n"
                + "  prefix: gw/\n"
                + "  topics:\n"
                + "    - {filter: \"sensors/+/temp\", stream: temps}\n"
                + "    - {filter: \"#\", stream: everything}\n")
            .mqtt();
    assertThat(m.enabled()).isTrue();
    assertThat(m.host()).isEqualTo("0.0.0.0");
    assertThat(m.port()).isEqualTo(1884);
    assertThat(m.maxInflightMessages()).isEqualTo(50);
    assertThat(m.maxPacketBytes()).isEqualTo(8192);
    assertThat(m.maxConnections()).isEqualTo(7);
    assertThat(m.connectTimeoutMs()).isEqualTo(2000);
    assertThat(m.usersFile()).isEqualTo(users);
    assertThat(m.prefix()).isEqualTo("gw/");
    assertThat(m.topics())
        .containsExactly(
            new MqttSettings.Route("sensors/+/temp", "temps"),
            new MqttSettings.Route("#", "everything"));
  }

  @Test
  void enabledWithoutTopics_isRefused() {
    assertThat(error("mqtt: {enabled: true}")).contains("mqtt.topics").contains("required");
  }

  @Test
  void invalidFilter_isRefusedNamingTheEntry() {
    assertThat(error("mqtt: {enabled: true, topics: [{filter: \"a/#/b\", stream: s}]}"))
        .contains("mqtt.topics[0].filter")
        .contains("'#' must be a whole level and the last one");
  }

  @Test
  void invalidStreamName_isRefused() {
    assertThat(error("mqtt: {enabled: true, topics: [{filter: \"a/b\", stream: \"bad name\"}]}"))
        .contains("mqtt.topics[0].stream")
        .contains("not a valid stream name");
  }

  @Test
  void filterUnderThePrefix_isRefused() {
    assertThat(error("mqtt: {enabled: true, topics: [{filter: \"edgesync/x/#\", stream: s}]}"))
        .contains("lies under the prefix");
  }

  @Test
  void limitsOutOfRange_areRefusedWithTheirUnits() {
    assertThat(error("mqtt: {max_packet_bytes: 10000000}"))
        .contains("mqtt.max_packet_bytes")
        .contains("64..524288 (bytes)");
    assertThat(error("mqtt: {max_inflight_messages: 0}")).contains("mqtt.max_inflight_messages");
  }

  @Test
  void credentialErrors_nameTheKey() throws Exception {
    assertThat(error("mqtt: {users_file: /no/such/users}"))
        .contains("mqtt.users_file")
        .contains("no such file");
    assertThat(error("mqtt: {username: alice}"))
        .contains("mqtt.password_file")
        .contains("go together");
    Path empty = Files.writeString(dir.resolve("empty"), "# nobody\n");
    assertThat(error("mqtt: {users_file: " + empty + "}")).contains("lists no user");
    Path bad = Files.writeString(dir.resolve("bad"), "alice\n");
    assertThat(error("mqtt: {users_file: " + bad + "}")).contains("line 1: expected name:password");
  }

  @Test
  void prefixMustEndWithASlash() {
    assertThat(error("mqtt: {prefix: gw}")).contains("mqtt.prefix").contains("must end with '/'");
  }

  @Test
  void tlsFilesThatAreNotPem_areRefusedAtLoad() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "not a certificate");
    Path key = Files.writeString(dir.resolve("key.pem"), "not a key");
    assertThat(error("mqtt: {tls: {cert_file: " + cert + ", key_file: " + key + "}}"))
        .contains("mqtt.tls.cert_file")
        .contains("cannot use");
    assertThat(error("mqtt: {tls: {cert_file: " + cert + "}}"))
        .contains("mqtt.tls.key_file")
        .contains("required");
  }

  @Test
  void unknownKey_isRefused() {
    assertThat(error("mqtt: {enable: true}")).contains("mqtt.enable").contains("unknown key");
  }
}

package io.edgesync.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgesync.security.ReleaseKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's {@code files:} section: defaults, every key, and errors that name the key. */
class FilesConfigTest {
  @TempDir Path dir;

  private AgentConfig load(String files) {
    return AgentConfig.fromYaml(
        "device: {id: gw-1}\nsync: {offline: {local_storage_path: \""
            + dir
            + "/data\"}}\n"
            + files);
  }

  @Test
  void noFilesSection_usesTheDocumentedDefaults() {
    AgentConfig.FileSettings f = load("").files();

    assertThat(f.dir()).isEqualTo(dir.resolve("data").resolve("files"));
    assertThat(f.trustedReleaseKeysFile()).isNull();
    assertThat(f.maxFileBytes()).isEqualTo(4L << 30);
    assertThat(f.keepPrevious()).isTrue();
    assertThat(f.uploadPriorities()).isEqualTo(Map.of("uploads", 10));
  }

  @Test
  void everyKey_isRead() throws Exception {
    Path keys = dir.resolve("keys.pem");
    ReleaseKey.writePublicKey(keys, ReleaseKey.generate().getPublic());

    AgentConfig.FileSettings f =
        load("files:\n"
                + "  dir: "
                + dir.resolve("installed")
                + "\n"
                + "  trusted_release_keys_file: "
                + keys
                + "\n"
                + "  max_file_bytes: 1048576\n"
                + "  keep_previous: false\n"
                + "  uploads:\n"
                + "    - {collection: logs, priority: 5}\n"
                + "    - {collection: clips}\n")
            .files();

    assertThat(f.dir()).isEqualTo(dir.resolve("installed"));
    assertThat(f.trustedReleaseKeysFile()).isEqualTo(keys);
    assertThat(f.maxFileBytes()).isEqualTo(1 << 20);
    assertThat(f.keepPrevious()).isFalse();
    assertThat(f.uploadPriorities()).isEqualTo(Map.of("logs", 5, "clips", 10));
  }

  @Test
  void badValues_failNamingTheKey() throws Exception {
    Path notKeys = Files.writeString(dir.resolve("not-keys.pem"), "hello\n");
    assertError("files: {max_file_bytes: 0}", "files.max_file_bytes", "out of range");
    assertError("files: {keep_previous: maybe}", "files.keep_previous", "true or false");
    assertError(
        "files: {trusted_release_keys_file: /no/such.pem}",
        "files.trusted_release_keys_file",
        "no such file");
    assertError(
        "files: {trusted_release_keys_file: " + notKeys + "}",
        "files.trusted_release_keys_file",
        "does not hold Ed25519 public keys");
    assertError("files: {uploads: logs}", "files.uploads", "expected a list of mappings");
    assertError("files: {uploads: [logs]}", "files.uploads[0]", "expected a mapping");
    assertError("files: {uploads: [{priority: 1}]}", "files.uploads[0].collection", "required");
    assertError(
        "files: {uploads: [{collection: a/b}]}",
        "files.uploads[0].collection",
        "not a valid collection name");
    assertError(
        "files: {uploads: [{collection: a}, {collection: a}]}",
        "files.uploads[1].collection",
        "listed twice");
    assertError(
        "files: {uploads: [{collection: a, priority: 5000}]}",
        "files.uploads[0].priority",
        "out of range");
    assertError("files: {directory: x}", "files.directory", "unknown key");
  }

  private void assertError(String yaml, String path, String fragment) {
    InvalidConfigException e =
        catchThrowableOfType(InvalidConfigException.class, () -> load(yaml + "\n"));
    assertThat(e).as(yaml).isNotNull();
    assertThat(e.path()).as(yaml).isEqualTo(path);
    assertThat(e.getMessage()).as(yaml).contains(fragment);
  }
}

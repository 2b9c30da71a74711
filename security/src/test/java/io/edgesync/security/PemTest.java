package io.edgesync.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemTest {
  @TempDir Path dir;

  @Test
  void writeAtomicallyIfAbsent_writesOnce_neverOverwrites_andLeavesNoTemporaryFile()
      throws Exception {
    Path file = dir.resolve("sub").resolve("k.pem");
    assertThat(Pem.writeAtomicallyIfAbsent(file, "first\n", true)).isTrue();
    assertThat(Pem.writeAtomicallyIfAbsent(file, "second\n", true)).isFalse();
    assertThat(Files.readString(file)).isEqualTo("first\n");
    if (Pem.posix()) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
    }
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void writeAtomically_replaces_andASecretIs0600() throws Exception {
    Path file = dir.resolve("k.pem");
    Pem.writeAtomically(file, "a", true);
    Pem.writeAtomically(file, "b", true);
    assertThat(Files.readString(file)).isEqualTo("b");
    if (Pem.posix()) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
    }
  }
}

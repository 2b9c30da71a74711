package io.edgesync.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Config files for tests of the command line. */
public final class TestConfigs {
  private TestConfigs() {}

  /**
   * {@code server-every-section.yaml} (every section and key set to a value other than its default)
   * written to {@code dir/server.yaml} with its port and data directory filled in.
   */
  public static Path serverEverySection(Path dir, int port, Path dataDir) throws IOException {
    String yaml;
    try (InputStream in = TestConfigs.class.getResourceAsStream("/server-every-section.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path file = dir.resolve("server.yaml");
    Files.writeString(
        file,
        yaml.replace("port: PORT", "port: " + port)
            .replace("data_dir: DATA_DIR", "data_dir: '" + dataDir + "'"));
    return file;
  }
}

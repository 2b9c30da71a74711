package io.edgesync.cli;

import io.edgesync.security.ReleaseKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code edgesync release-key init}: an Ed25519 release key that signs published files. */
@Command(
    name = "release-key",
    description = "Make the Ed25519 release key that signs published files.",
    subcommands = {ReleaseKeyCommand.Init.class})
final class ReleaseKeyCommand {
  static final String PRIVATE_FILE = "release.key";
  static final String PUBLIC_FILE = "release.pub";

  @Command(
      name = "init",
      description =
          "Write release.key (private, 0600: keep it off the server unless it signs) and"
              + " release.pub (give it to devices and to server.files.release_public_keys_file).")
  static final class Init implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Directory to write the key files to")
    Path out;

    @Override
    public Integer call() throws Exception {
      Files.createDirectories(out);
      Path priv = out.resolve(PRIVATE_FILE);
      Path pub = out.resolve(PUBLIC_FILE);
      if (Files.exists(priv) || Files.exists(pub)) {
        System.err.println(
            "edgesync: " + out + " already holds a release key; refusing to overwrite it");
        return 1;
      }
      KeyPair k = ReleaseKey.generate();
      ReleaseKey.writePrivateKey(priv, k.getPrivate());
      ReleaseKey.writePublicKey(pub, k.getPublic());
      System.out.println(
          "release key " + ReleaseKey.keyId(k.getPublic()) + ": wrote " + priv + " and " + pub);
      return 0;
    }
  }
}

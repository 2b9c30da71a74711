package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileMeta;
import io.edgesync.security.ReleaseKey;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code edgesync files publish|versions|download}: published file versions on a server. */
@Command(
    name = "files",
    description = "Publish file versions to a server, list them, download them.",
    subcommands = {
      FilesCommand.Publish.class,
      FilesCommand.Versions.class,
      FilesCommand.Download.class
    })
final class FilesCommand extends RemoteCommand {

  @Command(
      name = "publish",
      description =
          "Publish FILE as the next version of --path. The server signs it with its release key,"
              + " or sign it here with --sign-key.")
  static final class Publish implements Callable<Integer> {
    @ParentCommand FilesCommand parent;

    @Parameters(index = "0", description = "The file to publish")
    Path file;

    @Option(names = "--path", required = true, description = "Its path, e.g. firmware/gw.img")
    String path;

    @Option(names = "--meta", description = "Metadata key=value (repeatable)")
    Map<String, String> meta = new TreeMap<>();

    @Option(
        names = "--sign-key",
        description = "Sign here with this release key (edgesync release-key init)")
    Path signKey;

    @Option(
        names = "--progress",
        description = "Show a progress bar on stderr (default: when run in a terminal)")
    boolean progress;

    @Override
    public Integer call() throws Exception {
      if (!Files.isRegularFile(file)) {
        System.err.println("edgesync: no such file: " + file);
        return 2;
      }
      long size = Files.size(file);
      ServerApi api = parent.api();
      StringBuilder query = new StringBuilder("/api/v1/files?path=" + enc(path));
      meta.forEach((k, v) -> query.append("&meta.").append(enc(k)).append('=').append(enc(v)));
      Map<String, String> headers = new LinkedHashMap<>();
      if (signKey != null) {
        Long version = sign(api, size, headers);
        if (version == null) {
          return 1;
        }
        query.append("&version=").append(version);
      }
      boolean show = progress || System.console() != null;
      HttpRequest.BodyPublisher body =
          HttpRequest.BodyPublishers.fromPublisher(
              HttpRequest.BodyPublishers.ofInputStream(() -> open(size, show)), size);
      JsonNode v = request(() -> api.postStream(parent.url(query.toString()), headers, body));
      if (show) {
        System.err.println();
      }
      if (v == null) {
        return 1;
      }
      System.out.printf(
          "published %s version %d: %d bytes, %d chunks, sha256 %s, signed by key %s%n",
          v.get("path").asText(),
          v.get("version").asLong(),
          v.get("size").asLong(),
          v.get("chunks").asInt(),
          v.get("sha256").asText(),
          v.get("keyId").asText());
      return 0;
    }

    private InputStream open(long size, boolean show) {
      try {
        InputStream in = Files.newInputStream(file);
        return show ? new ProgressStream(in, size, System.err) : in;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    /** Signs the next version of the path here; returns it, or null after printing why not. */
    private Long sign(ServerApi api, long size, Map<String, String> headers) throws Exception {
      PrivateKey key = ReleaseKey.readPrivateKey(signKey);
      JsonNode versions =
          request(() -> api.get(parent.url("/api/v1/files/versions?path=" + enc(path))));
      if (versions == null) {
        return null;
      }
      JsonNode list = versions.get("versions");
      long version = list.isEmpty() ? 1 : list.get(0).get("version").asLong() + 1;
      MessageDigest sha = Manifest.newDigest();
      try (InputStream in = Files.newInputStream(file)) {
        byte[] buf = new byte[1 << 16];
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          sha.update(buf, 0, n);
        }
      }
      FileHeader.Builder h =
          FileHeader.newBuilder()
              .setPath(path)
              .setVersion(version)
              .setSize(size)
              .setSha256(ByteString.copyFrom(sha.digest()));
      new TreeMap<>(meta)
          .forEach((k, v) -> h.addMetadata(FileMeta.newBuilder().setKey(k).setValue(v)));
      byte[] signature = ReleaseKey.sign(key, FileVersion.signingInput(h.build()));
      headers.put("X-Edgesync-Signature", Base64.getEncoder().encodeToString(signature));
      headers.put("X-Edgesync-Key-Id", ReleaseKey.keyId(ReleaseKey.publicKeyOf(key)));
      return version;
    }
  }

  @Command(name = "versions", description = "List published paths, or the versions of --path.")
  static final class Versions implements Callable<Integer> {
    @ParentCommand FilesCommand parent;

    @Option(names = "--path", description = "Only this path's versions")
    String path;

    @picocli.CommandLine.Mixin JsonOutput output;

    @Override
    public Integer call() throws Exception {
      ServerApi api = parent.api();
      if (path == null) {
        JsonNode body = request(() -> api.get(parent.url("/api/v1/files")));
        if (body == null) {
          return 1;
        }
        if (output.printed(body)) {
          return 0;
        }
        System.out.printf("%-40s %-8s %-12s %s%n", "PATH", "LATEST", "SIZE", "SHA256");
        for (JsonNode f : body.get("files")) {
          System.out.printf(
              "%-40s %-8d %-12s %s%n",
              f.get("path").asText(),
              f.get("latestVersion").asLong(),
              bytes(f.get("size").asLong()),
              f.get("sha256").asText());
        }
        return 0;
      }
      JsonNode body =
          request(() -> api.get(parent.url("/api/v1/files/versions?path=" + enc(path))));
      if (body == null) {
        return 1;
      }
      if (output.printed(body)) {
        return 0;
      }
      System.out.printf(
          "%-8s %-12s %-8s %-16s %-16s %s%n",
          "VERSION", "SIZE", "CHUNKS", "KEY", "PUBLISHER", "SHA256");
      for (JsonNode v : body.get("versions")) {
        System.out.printf(
            "%-8d %-12s %-8d %-16s %-16s %s%n",
            v.get("version").asLong(),
            bytes(v.get("size").asLong()),
            v.get("chunks").asInt(),
            v.get("keyId").asText(),
            v.get("publisher").asText(),
            v.get("sha256").asText());
      }
      return 0;
    }
  }

  @Command(name = "download", description = "Download a published version (default: the newest).")
  static final class Download implements Callable<Integer> {
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help; // declared here: this command's --version names a file version, not edgesync's

    @ParentCommand FilesCommand parent;

    @Option(names = "--path", required = true, description = "The file's path")
    String path;

    @Option(names = "--version", description = "The version (default: the newest)")
    Long version;

    @Option(names = "--out", required = true, description = "Where to write it")
    Path out;

    @Override
    public Integer call() throws Exception {
      return parent.download(
          "/api/v1/files/download?path="
              + enc(path)
              + (version == null ? "" : "&version=" + version),
          out);
    }
  }
}

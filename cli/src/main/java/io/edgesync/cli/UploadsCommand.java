package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code edgesync uploads list|download}: files devices uploaded to a server. */
@Command(
    name = "uploads",
    description = "List the files devices uploaded, and download them.",
    subcommands = {UploadsCommand.ListUploads.class, UploadsCommand.Download.class})
final class UploadsCommand extends RemoteCommand {

  @Command(name = "list", description = "List uploads, newest first.")
  static final class ListUploads implements Callable<Integer> {
    @ParentCommand UploadsCommand parent;

    @Option(names = "--device", description = "Only this device's")
    String device;

    @picocli.CommandLine.Mixin JsonOutput output;

    @Override
    public Integer call() throws Exception {
      ServerApi api = parent.api();
      String q = device == null ? "" : "?device=" + enc(device);
      JsonNode body = request(() -> api.get(parent.url("/api/v1/uploads" + q)));
      if (body == null) {
        return 1;
      }
      if (output.printed(body)) {
        return 0;
      }
      System.out.printf(
          "%-20s %-32s %-8s %-12s %-10s %-22s %s%n",
          "DEVICE", "PATH", "VERSION", "COLLECTION", "STATE", "BYTES", "REASON");
      for (JsonNode u : body.get("uploads")) {
        System.out.printf(
            "%-20s %-32s %-8d %-12s %-10s %-22s %s%n",
            u.get("device").asText(),
            u.get("path").asText(),
            u.get("version").asLong(),
            u.get("collection").asText(),
            u.get("state").asText(),
            bytes(u.get("bytesDone").asLong()) + " / " + bytes(u.get("size").asLong()),
            u.get("reason").isNull() ? "" : u.get("reason").asText());
      }
      return 0;
    }
  }

  @Command(name = "download", description = "Download a stored upload.")
  static final class Download implements Callable<Integer> {
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help; // declared here: this command's --version names a file version, not edgesync's

    @ParentCommand UploadsCommand parent;

    @Option(names = "--device", required = true, description = "The device that uploaded it")
    String device;

    @Option(names = "--path", required = true, description = "Its path")
    String path;

    @Option(names = "--version", required = true, description = "Its version")
    long version;

    @Option(names = "--out", required = true, description = "Where to write it")
    Path out;

    @Override
    public Integer call() throws Exception {
      return parent.download(
          "/api/v1/uploads/download?device="
              + enc(device)
              + "&path="
              + enc(path)
              + "&version="
              + version,
          out);
    }
  }
}

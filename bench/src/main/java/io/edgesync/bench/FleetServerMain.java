package io.edgesync.bench;

import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The fleet bench's server, in a JVM of its own so that its heap and RSS are its own: {@code
 * FleetServerMain <config.yaml>} starts the {@link SyncServer} the YAML describes (as {@code
 * edgesync server --config} does) and speaks a line protocol with the runner ({@link
 * FleetServerProcess}): it prints {@code READY <port>}; to {@code HEAP} on stdin it answers {@code
 * HEAP <used> <committed>} (bytes, after {@code System.gc()}: a full collection in G1 and the
 * serial collector, so "used" is live data plus what the collector could not free); at the end of
 * stdin (the runner exited or closed it) it exits.
 */
public final class FleetServerMain {
  private FleetServerMain() {}

  public static void main(String[] args) throws Exception {
    OutputStream out = new FileOutputStream(FileDescriptor.out);
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true)); // logs
    SyncServer server = SyncServer.start(ServerConfig.load(Path.of(args[0])));
    line(out, "READY " + server.port());
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String cmd; (cmd = in.readLine()) != null; ) {
      if (cmd.equals("HEAP")) {
        System.gc();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        line(out, "HEAP " + heap.getUsed() + " " + heap.getCommitted());
      }
    }
    server.close();
    System.exit(0);
  }

  /** One whole line in one write, so the runner never reads half of one. */
  private static void line(OutputStream out, String s) throws java.io.IOException {
    out.write((s + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}

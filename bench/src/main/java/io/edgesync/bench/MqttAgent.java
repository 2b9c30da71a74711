package io.edgesync.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The edgesync agent as the MQTT bench's broker: a child JVM started as a device starts it, {@code
 * java <deploy/jvm/agent.options> -jar cli/target/edgesync.jar agent --config <generated>}, with
 * its MQTT listener on a free loopback port mapping {@code bench/#} to the stream {@code mqtt}, and
 * the outbox at its default durability (every commit fsynced before the PUBACK). Offline by default
 * (sync disabled: the records stay in the outbox, which is what a PUBACK promises); with a cloud, a
 * local server in another child JVM receives them while the load runs. After the load, {@link
 * #check} reads the stream's counts from the agent's local API ({@code GET /v1/status}). Used by
 * the runner thread only.
 */
final class MqttAgent implements MqttTarget {
  static final String STREAM = "mqtt";

  /**
   * How the agent runs: its jar, its JVM options file, whether a cloud receives, and its listener's
   * {@code max_inflight_messages} (per connection: the load's window).
   */
  record Setup(Path jar, Path jvmOptionsFile, boolean cloud, int maxInflightMessages) {
    /** Why the agent cannot run here, or null. */
    String unavailable() {
      if (!Files.isRegularFile(jar)) {
        return jar
            + " is missing: build it with mvn -o -B -pl cli -am package -DskipTests (or pass"
            + " --agent-jar=PATH)";
      }
      if (jvmOptionsFile != null && !Files.isRegularFile(jvmOptionsFile)) {
        return jvmOptionsFile + " is missing (pass --agent-jvm-options=PATH, or none)";
      }
      return null;
    }

    /** The options of the file, one per line, # comments and blank lines left out. */
    List<String> jvmOptions() throws IOException {
      List<String> out = new ArrayList<>();
      if (jvmOptionsFile == null) {
        return out;
      }
      for (String l : Files.readAllLines(jvmOptionsFile)) {
        String t = l.trim();
        if (!t.isEmpty() && !t.startsWith("#")) {
          out.add(t);
        }
      }
      return out;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PAUSE = Pattern.compile(" Pause .* (\\d+(?:\\.\\d+)?)ms$");

  private final Process process;
  private final int port;
  private final int apiPort;
  private final FleetServerProcess cloud;
  private final Path gcLog;

  private MqttAgent(Process process, int port, int apiPort, FleetServerProcess cloud, Path gcLog) {
    this.process = process;
    this.port = port;
    this.apiPort = apiPort;
    this.cloud = cloud;
    this.gcLog = gcLog;
  }

  static MqttAgent start(Setup setup, Path dir) throws Exception {
    Files.createDirectories(dir);
    FleetServerProcess cloud = setup.cloud() ? startCloud(dir) : null;
    try {
      int port = MqttTarget.freePort();
      int apiPort = MqttTarget.freePort();
      Path config = dir.resolve("agent.yaml");
      String url = "ws://127.0.0.1:" + (cloud == null ? 9 : cloud.port()) + "/v1/sync";
      String data = dir.resolve("data").toAbsolutePath().toString().replace("\\", "/");
      Files.writeString(
          config, config(setup, data, url, Integer.toString(port), Integer.toString(apiPort)));
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(setup.jvmOptions());
      // Pauses explain latency tails; the log costs a line per collection.
      cmd.add("-Xlog:gc:file=" + dir.resolve("gc.log").toAbsolutePath());
      cmd.addAll(List.of("-jar", setup.jar().toString(), "agent", "--config", config.toString()));
      Path log = dir.resolve("agent.log");
      Bench.log("mqtt: " + String.join(" ", cmd));
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      MqttTarget.awaitListening(p, port, 60, log, "the agent");
      return new MqttAgent(p, port, apiPort, cloud, dir.resolve("gc.log"));
    } catch (Exception | Error e) {
      if (cloud != null) {
        cloud.close();
      }
      throw e;
    }
  }

  /**
   * The agent's YAML: the config contract of issue 16's MQTT listener. The queue holds a whole run
   * (about 9 million records at 350,000/s for 25 s; the default bounds of 10 million records and 1
   * GiB would drop the oldest, and the check would fail).
   */
  static String config(Setup setup, String data, String serverUrl, String port, String apiPort) {
    return String.format(
        Locale.ROOT,
        """
        device: {id: mqtt-bench}
        server: {url: "%s"}
        local_api: {port: %s}
        sync:
          directions:
            edge_to_cloud: {enabled: %s}
          offline: {local_storage_path: "%s", queue_max_size: 100000000}
        queue: {max_bytes: 17179869184}
        streams:
          %s: {priority: 1}
        mqtt:
          enabled: true
          host: 127.0.0.1
          port: %s
          max_inflight_messages: %d
          topics:
            - {filter: "bench/#", stream: %s}
        """,
        serverUrl,
        apiPort,
        setup.cloud(),
        data,
        STREAM,
        port,
        setup.maxInflightMessages(),
        STREAM);
  }

  private static FleetServerProcess startCloud(Path dir) throws Exception {
    Path config = dir.resolve("server.yaml");
    Files.writeString(
        config,
        "server:\n  host: 127.0.0.1\n  port: 0\n  data_dir: "
            + dir.resolve("cloud").toAbsolutePath()
            + "\n");
    FleetServerProcess p =
        FleetServerProcess.start(config, List.of("-Xmx512m"), 0, dir.resolve("server.log"));
    Bench.logf("mqtt: local server (pid %d) on port %d receives the records", p.pid(), p.port());
    return p;
  }

  @Override
  public String name() {
    return "agent";
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public Process process() {
    return process;
  }

  /**
   * The stream's counts: every PUBACKed message must be a record ({@code lastSequence} = appended,
   * the outbox's own count across sync), none dropped; equal to the PUBACKs when the drain ended
   * with nothing in flight (a message in flight when the load gave up may be stored
   * unacknowledged).
   */
  @Override
  public Check check(MqttLoad.Result load) throws Exception {
    JsonNode stream = stream(status());
    if (stream == null) {
      return new Check(
          load.pubacked() == 0,
          "no stream '" + STREAM + "' in the agent's GET /v1/status (0 records)");
    }
    long appended = stream.path("lastSequence").asLong(-1);
    long dropped = stream.path("droppedRecords").asLong(-1);
    boolean ok =
        dropped == 0
            && (load.unacked() == 0
                ? appended == load.pubacked()
                : appended >= load.pubacked() && appended <= load.published());
    String text =
        String.format(
            Locale.ROOT,
            "outbox stream '%s': %,d records (%,d queued, %,d synced, %,d dropped) for %,d"
                + " PUBACKs%s",
            STREAM,
            appended,
            stream.path("queuedRecords").asLong(-1),
            stream.path("syncedRecords").asLong(-1),
            dropped,
            load.pubacked(),
            ok ? (appended == load.pubacked() ? ": equal" : "") : ": MISMATCH");
    return new Check(ok, text);
  }

  /** The agent's GC pauses over the whole run (warm-up included), from its {@code -Xlog:gc}. */
  @Override
  public String details() {
    try {
      return gcPauses(Files.readAllLines(gcLog));
    } catch (IOException e) {
      return "GC log unreadable: " + e.getMessage();
    }
  }

  /**
   * "GC: n pauses, max x ms, total y ms" from unified GC log lines such as {@code
   * [2.345s][info][gc] GC(3) Pause Young (Allocation Failure) 20M->5M(48M) 1.234ms}.
   */
  static String gcPauses(List<String> lines) {
    int n = 0;
    double max = 0;
    double total = 0;
    for (String l : lines) {
      Matcher m = PAUSE.matcher(l);
      if (m.find()) {
        double ms = Double.parseDouble(m.group(1));
        n++;
        max = Math.max(max, ms);
        total += ms;
      }
    }
    return String.format(
        Locale.ROOT, "GC: %d pauses, max %s ms, total %s ms", n, Stats.num(max), Stats.num(total));
  }

  private JsonNode status() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + "/v1/status"))
            .timeout(Duration.ofSeconds(30))
            .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(
          "GET /v1/status of the agent answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  private static JsonNode stream(JsonNode status) {
    for (JsonNode s : status.path("streams")) {
      if (STREAM.equals(s.path("name").asText())) {
        return s;
      }
    }
    return null;
  }

  @Override
  public void close() throws Exception {
    try {
      MqttTarget.stop(process, 20);
    } finally {
      if (cloud != null) {
        cloud.close();
      }
    }
  }
}

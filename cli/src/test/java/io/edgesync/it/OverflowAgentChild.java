package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.EdgeAgent;
import java.nio.file.Path;

/**
 * A child JVM for {@link AccountingCrashTest}: an agent with a small queue that drops the oldest
 * records when full, appending to two streams of different priority without pause, and reporting
 * each append it got back as durable ({@code D stream sequence}) until it is killed.
 *
 * <p>Arguments: the sync URL, the data directory.
 */
public final class OverflowAgentChild {
  static final String DEVICE = "acct-1";

  /** Records queued, all streams: small, so that an outage of a second overflows it. */
  static final int MAX_QUEUE_RECORDS = 300;

  private OverflowAgentChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    EdgeAgent agent = EdgeAgent.open(config(args[0], Path.of(args[1])));
    out.line("READY");
    for (long i = 0; ; i++) {
      String stream = i % 3 == 0 ? "alarms" : "telemetry";
      AppendResult r = agent.append(stream, ("{\"i\":" + i + "}").getBytes(UTF_8));
      out.line("D " + r.stream() + " " + r.firstSequence());
    }
  }

  static AgentConfig config(String url, Path dataDir) {
    return Testbed.fastSync(
        AgentConfig.fromYaml(
            "device: {id: \""
                + DEVICE
                + "\"}\nserver: {url: \""
                + url
                + "\"}\nlocal_api: {port: -1}\n"
                + "sync: {offline: {local_storage_path: \""
                + dataDir.toString().replace("\\", "/")
                + "\", queue_max_size: "
                + MAX_QUEUE_RECORDS
                + "}}\n"
                + "queue: {overflow_policy: drop_oldest}\n"
                + "streams: {alarms: {priority: 1}, telemetry: {priority: 3}}\n"));
  }
}

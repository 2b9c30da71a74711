package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.EdgeAgent;
import java.net.URI;
import java.nio.file.Path;

/**
 * An agent in its own JVM for crash tests. Args: deviceId serverUrl dataDir mode. Mode "append":
 * appends records forever, printing "ACK seq" after each append returned (i.e. was durable). Mode
 * "drain": only syncs. Prints "READY" once open.
 */
public final class AgentChild {
  public static void main(String[] args) throws Exception {
    AgentConfig config =
        Testbed.fastSync(AgentConfig.simple(args[0], URI.create(args[1]), Path.of(args[2])));
    EdgeAgent agent = EdgeAgent.open(config);
    System.out.println("READY");
    System.out.flush();
    if (args[3].equals("append")) {
      long last =
          agent.status().streams().stream()
              .filter(s -> s.name().equals("telemetry"))
              .mapToLong(s -> s.lastSequence())
              .findFirst()
              .orElse(0);
      for (long n = last + 1; ; n++) {
        AppendResult r = agent.append("telemetry", ("{\"seq\":" + n + "}").getBytes(UTF_8));
        System.out.println("ACK " + r.firstSequence());
        System.out.flush();
      }
    }
    Thread.sleep(Long.MAX_VALUE);
  }
}

package io.edgesync.it;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import java.net.URI;
import java.nio.file.Path;

/**
 * An agent with files in its own JVM for the files crash tests. Args: {@code deviceId serverUrl
 * dataDir trustedKeysFile mode [file]}: its store in dataDir, installed files in {@code
 * dataDir/installed}, downloads trusted when signed by a key of trustedKeysFile. Mode {@code sync}
 * only syncs; mode {@code upload} first uploads {@code file} as {@code uploads/<its name>}. Prints
 * {@code READY} once open (after the upload is recorded); the test reads the rest from the agent's
 * files database ({@code edgesync-files.db}).
 */
public final class FilesAgentChild {
  private FilesAgentChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    Path data = Path.of(args[2]);
    AgentConfig c =
        Testbed.fastSync(AgentConfig.simple(args[0], URI.create(args[1]), data))
            .withFiles(
                AgentConfig.FileSettings.defaults(data.resolve("installed"), Path.of(args[3])));
    EdgeAgent agent = EdgeAgent.open(c);
    if (args[4].equals("upload")) {
      Path file = Path.of(args[5]);
      agent.files().upload("uploads", file.getFileName().toString(), file);
    }
    out.line("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}

package io.edgesync.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where an agent's local API is and its token: the options of the commands that ask it. */
final class AgentApiOptions {
  @Option(
      names = "--agent",
      description = "Agent local API base URL (default: ${DEFAULT-VALUE})",
      defaultValue = "http://127.0.0.1:8471")
  String agent;

  @Option(
      names = "--agent-token-file",
      description =
          "The agent's local API token file (its local_api.token_file), when it has one; also"
              + " the environment variable EDGESYNC_AGENT_TOKEN")
  Path agentTokenFile;

  /** The base URL without trailing slashes. */
  String base() {
    return agent.replaceAll("/+$", "");
  }

  /** A client of the local API, with the token if there is one. */
  ServerApi api() throws IOException {
    return new ServerApi(token(agentTokenFile));
  }

  /** The token from the file, else from {@code EDGESYNC_AGENT_TOKEN}; null without either. */
  private static String token(Path agentTokenFile) throws IOException {
    if (agentTokenFile != null) {
      String token = Files.readString(agentTokenFile).strip();
      if (token.isEmpty()) {
        throw new IllegalArgumentException("the agent token file " + agentTokenFile + " is empty");
      }
      return token.lines().findFirst().orElseThrow().strip();
    }
    String env = System.getenv("EDGESYNC_AGENT_TOKEN");
    return env == null || env.isBlank() ? null : env.strip();
  }
}

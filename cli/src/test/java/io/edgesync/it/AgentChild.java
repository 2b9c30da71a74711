package io.edgesync.it;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import java.nio.file.Path;
import java.util.List;

/**
 * An agent in its own JVM for crash tests. Args: {@code deviceId serverUrl dataDir mode seed
 * pkiDir}: it connects over mutual TLS with {@code pkiDir/<deviceId>.pem} and {@code .key} ({@link
 * TestConfigs#devicePki}) to a {@code wss://} serverUrl. Mode {@code append}: runs every {@link
 * AckedWrites} kind's writes forever, each reporting its acknowledged writes ({@code ACK} lines).
 * Mode {@code drain}: reports what the device holds ({@code HAVE} lines) and only syncs. Prints
 * {@code READY} once open (after the HAVE lines).
 */
public final class AgentChild {
  private AgentChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    AgentConfig config =
        Testbed.neverDrop(Testbed.fastSync(mutualTls(args[0], args[1], args[2], Path.of(args[5]))));
    List<AckedWrites.Kind> kinds = AckedWrites.kinds(Long.parseLong(args[4]));
    EdgeAgent agent = EdgeAgent.open(config);
    if (args[3].equals("drain")) {
      for (AckedWrites.Kind k : kinds) {
        k.reportHeld(agent, out);
      }
      out.line("READY");
      Thread.sleep(Long.MAX_VALUE);
    }
    out.line("READY");
    while (true) {
      for (AckedWrites.Kind k : kinds) {
        k.write(agent, out);
      }
    }
  }

  private static AgentConfig mutualTls(String device, String url, String dataDir, Path pki) {
    return AgentConfig.fromYaml(
        "device: {id: \""
            + device
            + "\"}\nserver: {url: \""
            + url
            + "\"}\nlocal_api: {port: -1}\n"
            + "sync: {offline: {local_storage_path: \""
            + dataDir.replace("\\", "/")
            + "\"}}\n"
            + "tls: {cert_file: \""
            + pki.resolve(device + ".pem")
            + "\", key_file: \""
            + pki.resolve(device + ".key")
            + "\", ca_file: \""
            + pki.resolve("ca").resolve("ca.pem")
            + "\"}\n");
  }
}

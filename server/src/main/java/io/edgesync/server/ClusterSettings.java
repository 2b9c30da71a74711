package io.edgesync.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * {@code server.cluster}: this node among several sharing one store (docs/operations.md "Several
 * nodes").
 *
 * @param nodeId this node's name, unique among the nodes sharing the store: it holds leases and
 *     device sessions under it (default: host name and process id)
 * @param leaseMs how long a lease on one-node-at-a-time work lasts without renewal: after a node
 *     died, another takes its work over within this time
 */
public record ClusterSettings(String nodeId, long leaseMs) {
  /** What a node id may look like. */
  public static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  public static final long DEFAULT_LEASE_MS = 15_000;

  public ClusterSettings {
    if (!NODE_ID.matcher(nodeId).matches()) {
      throw new IllegalArgumentException(
          "invalid node id '" + nodeId + "'; allowed: " + NODE_ID.pattern());
    }
  }

  /** The host's name and this process's id, a lease of {@value #DEFAULT_LEASE_MS} ms. */
  public static ClusterSettings defaults() {
    return new ClusterSettings(defaultNodeId(), DEFAULT_LEASE_MS);
  }

  static String defaultNodeId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "node";
    }
    String cleaned = host.replaceAll("[^A-Za-z0-9_.-]", "-").replaceAll("^[^A-Za-z0-9]+", "");
    if (cleaned.isEmpty()) {
      cleaned = "node";
    }
    String pid = "-" + ProcessHandle.current().pid();
    return cleaned.substring(0, Math.min(cleaned.length(), 63 - pid.length())) + pid;
  }
}

package io.edgesync.cli;

import io.edgesync.server.ServerConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Secure by default: a server without {@code server.tls} that listens beyond loopback serves plain
 * {@code ws://} and {@code http://} to the network, where any client may claim any device id and
 * everything on the wire can be read. {@code edgesync server} refuses that unless told {@code
 * --insecure}; loopback without TLS stays allowed (local development, tests). API keys guard REST
 * in every case. Stateless.
 */
final class PlainExposure {
  private PlainExposure() {}

  /** What a plain server exposes, for the refusal and for the {@code --insecure} warning. */
  static final String WHAT =
      "devices connect over plain ws:// with device ids no one authenticates (anyone who reaches"
          + " the port can be any device), and records, documents, commands and API keys cross"
          + " the network readable by anyone on the path";

  /** True if the config serves plain ws/http on an address other than loopback. */
  static boolean exposed(ServerConfig c) {
    return c.tls() == null && !isLoopback(c.host());
  }

  /** The refusal's message: what would be exposed, and the three ways out. */
  static String refusal(ServerConfig c) {
    return "refusing to start: server.host is "
        + c.host()
        + " (not loopback) and server.tls is not configured, so "
        + WHAT
        + ". Either configure server.tls (mutual TLS, see docs/security.md), or bind to loopback"
        + " (server.host: 127.0.0.1, or --host 127.0.0.1), or start with --insecure to accept"
        + " this";
  }

  /** The warning {@code --insecure} logs at start. */
  static String warning(ServerConfig c, int port) {
    return "--insecure: serving plain ws:// and http:// on " + c.host() + ":" + port + ": " + WHAT;
  }

  /** A loopback address or a name that resolves to one; 0.0.0.0 and :: are every interface. */
  static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false; // cannot tell: treat it as exposed
    }
  }
}

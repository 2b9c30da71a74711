package io.edgesync.protocol;

import io.edgesync.protocol.wire.HlcTimestamp;
import java.util.Comparator;

/**
 * A hybrid logical clock timestamp: wall-clock milliseconds, a logical counter and the node that
 * made it. Ordered by (wallMs, logical, node): the node id breaks ties between different nodes, so
 * two distinct timestamps are never equal and last-write-wins is deterministic.
 *
 * <p>Text form {@code <wallMs>.<logical>@<node>} (used in REST and in the audit log).
 */
public record Hlc(long wallMs, int logical, String node) implements Comparable<Hlc> {
  public static final Hlc ZERO = new Hlc(0, 0, "");

  private static final Comparator<Hlc> ORDER =
      Comparator.comparingLong(Hlc::wallMs).thenComparingInt(Hlc::logical).thenComparing(Hlc::node);

  public Hlc {
    if (wallMs < 0 || logical < 0 || node == null) {
      throw new IllegalArgumentException(
          "invalid HLC " + wallMs + "." + logical + "@" + node + ": negative or no node");
    }
  }

  @Override
  public int compareTo(Hlc other) {
    return ORDER.compare(this, other);
  }

  public boolean after(Hlc other) {
    return compareTo(other) > 0;
  }

  public HlcTimestamp toWire() {
    return HlcTimestamp.newBuilder().setWallMs(wallMs).setLogical(logical).setNode(node).build();
  }

  /**
   * @throws ProtocolException if the timestamp is negative (a uint on the wire cannot be) or
   *     missing its node
   */
  public static Hlc fromWire(HlcTimestamp t) throws ProtocolException {
    if (t.getWallMs() < 0 || t.getLogical() < 0 || t.getNode().isEmpty()) {
      throw new ProtocolException(
          io.edgesync.protocol.wire.ErrorCode.INVALID_DOCUMENT,
          "invalid HLC timestamp "
              + t.getWallMs()
              + "."
              + Integer.toUnsignedString(t.getLogical())
              + "@'"
              + t.getNode()
              + "': wall and counter must be non-negative and the node named");
    }
    return new Hlc(t.getWallMs(), t.getLogical(), t.getNode());
  }

  @Override
  public String toString() {
    return wallMs + "." + logical + "@" + node;
  }

  /** Parses the text form; throws IllegalArgumentException naming the problem. */
  public static Hlc parse(String text) {
    int dot = text.indexOf('.');
    int at = text.indexOf('@');
    if (dot < 1 || at < dot + 2) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an HLC timestamp (expected <wallMs>.<counter>@<node>)");
    }
    try {
      return new Hlc(
          Long.parseLong(text.substring(0, dot)),
          Integer.parseInt(text.substring(dot + 1, at)),
          text.substring(at + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an HLC timestamp (expected <wallMs>.<counter>@<node>)", e);
    }
  }
}

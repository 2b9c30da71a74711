package io.edgesync.server.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * What one server node tells the others sharing its store, after the change committed: which device
 * sessions have something new to be pushed, or that a device's session moved to it.
 *
 * @param node the node that made the change
 * @param kind what changed
 * @param subjects scopes ({@link Kind#DOCS}), device ids ({@link Kind#COMMANDS}, {@link
 *     Kind#FILES}, {@link Kind#CLAIMED}) or stream names ({@link Kind#DICTIONARY})
 */
public record ClusterEvent(String node, Kind kind, List<String> subjects) {
  /** What changed. */
  public enum Kind {
    /** Document versions in these scopes. */
    DOCS,
    /** Commands queued for these devices. */
    COMMANDS,
    /** Rollouts offer these devices something new. */
    FILES,
    /** A dictionary was trained for these streams. */
    DICTIONARY,
    /** These devices' sessions were claimed by {@code node}: other nodes end theirs. */
    CLAIMED,
    /**
     * Not sent: a node's bus delivers it to its own listeners when it may have missed events (its
     * listening connection was lost and made again), so they push whatever may be new.
     */
    RESYNC
  }

  public ClusterEvent {
    subjects = List.copyOf(subjects);
  }

  /** Separates fields of the text form; node ids and subjects never contain it. */
  static final char FIELD = '\t';

  /** Separates subjects of the text form. */
  static final char SUBJECT = '\n';

  /**
   * The text form in pieces of at most {@code maxChars} characters each, every piece a whole event
   * with some of the subjects ({@code node TAB kind TAB subject LF subject …}).
   */
  List<String> encode(int maxChars) {
    String head = node + FIELD + kind.name() + FIELD;
    List<String> out = new ArrayList<>();
    StringBuilder piece = new StringBuilder(head);
    for (String s : subjects) {
      if (head.length() + s.length() > maxChars) {
        throw new IllegalArgumentException(
            "a subject of " + s.length() + " characters does not fit an event");
      }
      if (piece.length() > head.length() && piece.length() + 1 + s.length() > maxChars) {
        out.add(piece.toString());
        piece.setLength(head.length());
      }
      if (piece.length() > head.length()) {
        piece.append(SUBJECT);
      }
      piece.append(s);
    }
    out.add(piece.toString());
    return out;
  }

  /** The event in {@code text}, or null if it is not one (another program on the channel). */
  static ClusterEvent decode(String text) {
    int a = text.indexOf(FIELD);
    int b = a < 0 ? -1 : text.indexOf(FIELD, a + 1);
    if (b < 0) {
      return null;
    }
    Kind kind;
    try {
      kind = Kind.valueOf(text.substring(a + 1, b));
    } catch (IllegalArgumentException e) {
      return null;
    }
    String rest = text.substring(b + 1);
    List<String> subjects =
        rest.isEmpty() ? List.of() : List.of(rest.split(String.valueOf(SUBJECT), -1));
    return new ClusterEvent(text.substring(0, a), kind, subjects);
  }
}

package io.edgesync.agent.internal.mqtt;

/**
 * MQTT topic names and filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7): {@code +} matches one level, {@code
 * #} (last) the rest including the parent level, and a filter starting with a wildcard does not
 * match topics starting with {@code $}. Stateless.
 */
public final class TopicFilter {
  /** The longest topic name or filter accepted, in UTF-8 bytes (the protocol's own bound). */
  public static final int MAX_TOPIC_BYTES = 65_535;

  private TopicFilter() {}

  /** What is wrong with {@code filter} as a topic filter, or null if it is valid. */
  public static String problem(String filter) {
    if (filter.isEmpty()) {
      return "empty";
    }
    if (filter.indexOf('\0') >= 0) {
      return "holds a NUL character";
    }
    String[] levels = filter.split("/", -1);
    for (int i = 0; i < levels.length; i++) {
      String level = levels[i];
      if (level.contains("#") && (!level.equals("#") || i != levels.length - 1)) {
        return "'#' must be a whole level and the last one";
      }
      if (level.contains("+") && !level.equals("+")) {
        return "'+' must be a whole level";
      }
    }
    return null;
  }

  /** What is wrong with {@code topic} as a topic name (to publish on), or null if it is valid. */
  public static String nameProblem(String topic) {
    if (topic.isEmpty()) {
      return "empty";
    }
    if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
      return "a topic name must not hold the wildcards '+' or '#'";
    }
    if (topic.indexOf('\0') >= 0) {
      return "holds a NUL character";
    }
    return null;
  }

  /** Whether topic name {@code topic} matches {@code filter} (both valid). */
  public static boolean matches(String filter, String topic) {
    if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) {
      return false;
    }
    int f = 0;
    int t = 0;
    int fl = filter.length();
    int tl = topic.length();
    while (f < fl) {
      char c = filter.charAt(f);
      if (c == '#') {
        return true; // the rest, including the parent level itself ("a/#" matches "a")
      }
      if (c == '+') {
        while (t < tl && topic.charAt(t) != '/') {
          t++;
        }
        f++;
      } else {
        int fEnd = filter.indexOf('/', f);
        fEnd = fEnd < 0 ? fl : fEnd;
        int tEnd = topic.indexOf('/', t);
        tEnd = tEnd < 0 ? tl : tEnd;
        if (fEnd - f != tEnd - t || !filter.regionMatches(f, topic, t, fEnd - f)) {
          return false;
        }
        f = fEnd;
        t = tEnd;
      }
      // Both at a level end: step over '/' together, or both end here.
      if (f == fl) {
        return t == tl;
      }
      // filter has '/': topic must have one too, unless the filter's next level is a final '#'.
      if (t == tl) {
        return filter.startsWith("/#", f) && f + 2 == fl;
      }
      f++;
      t++;
    }
    return t == tl;
  }
}

package io.edgesync.server.export;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Which Kafka topic a stream's records go to: an exact name in {@code topics} first, then the first
 * glob ({@code *} = any run of characters) in the order written, then the default topic; none of
 * them (with no default topic) = the stream is not exported. Thread safe: answers are cached per
 * stream in a concurrent map.
 */
final class TopicMapping {
  private final Map<String, String> exact;
  private final List<Map.Entry<Pattern, String>> globs = new ArrayList<>();
  private final String defaultTopic; // null: unmapped streams are not exported
  private final Map<String, Optional<String>> cache = new ConcurrentHashMap<>();

  TopicMapping(Map<String, String> topics, String defaultTopic) {
    Map<String, String> names = new java.util.HashMap<>();
    for (Map.Entry<String, String> e : topics.entrySet()) {
      if (e.getKey().contains("*")) {
        globs.add(Map.entry(glob(e.getKey()), e.getValue()));
      } else {
        names.put(e.getKey(), e.getValue());
      }
    }
    this.exact = Map.copyOf(names);
    this.defaultTopic = defaultTopic;
  }

  /** The topic of {@code stream}, or null if the stream is not exported. */
  String topicOf(String stream) {
    return cache.computeIfAbsent(stream, s -> Optional.ofNullable(resolve(s))).orElse(null);
  }

  private String resolve(String stream) {
    String topic = exact.get(stream);
    if (topic != null) {
      return topic;
    }
    for (Map.Entry<Pattern, String> g : globs) {
      if (g.getKey().matcher(stream).matches()) {
        return g.getValue();
      }
    }
    return defaultTopic;
  }

  private static Pattern glob(String glob) {
    List<String> parts = new ArrayList<>();
    for (String part : glob.split("\\*", -1)) {
      parts.add(Pattern.quote(part));
    }
    return Pattern.compile(String.join(".*", parts));
  }
}

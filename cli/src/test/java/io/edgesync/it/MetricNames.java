package io.edgesync.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The edgesync metrics a PromQL expression reads, and which of them a scrape does not publish: the
 * check behind the shipped alerting rules and the Grafana dashboard (they must name only metrics
 * that exist).
 */
final class MetricNames {
  private static final Pattern METRIC = Pattern.compile("\\b(edgesync_[a-z_]+)\\b");

  /** Series of a histogram or summary, published under the name of the whole. */
  private static final List<String> PARTS = List.of("_bucket", "_sum", "_count");

  private MetricNames() {}

  /** The {@code edgesync_*} metric names in {@code promql}. */
  static Set<String> in(String promql) {
    Set<String> out = new TreeSet<>();
    Matcher m = METRIC.matcher(promql);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** The names of {@code named} that {@code published} (Prometheus' text format) has no TYPE of. */
  static List<String> unpublished(Set<String> named, String published) {
    List<String> out = new ArrayList<>();
    for (String name : named) {
      if (!published.contains("# TYPE " + name + " ") && !isPartOfPublished(name, published)) {
        out.add(name);
      }
    }
    return out;
  }

  private static boolean isPartOfPublished(String name, String published) {
    for (String part : PARTS) {
      if (name.endsWith(part)) {
        String whole = name.substring(0, name.length() - part.length());
        if (published.contains("# TYPE " + whole + " histogram")
            || published.contains("# TYPE " + whole + " summary")) {
          return true;
        }
      }
    }
    return false;
  }
}

package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code edgesync conflicts report}: the server's conflict report for a collection, device, period.
 */
@Command(
    name = "report",
    description =
        "Conflict counts, rate, strategies, outcomes and who resolved them, for a period.")
final class ConflictReportCommand implements Callable<Integer> {
  @ParentCommand ConflictsCommand parent;

  @Option(names = "--collection", description = "Only this collection's conflicts")
  String collection;

  @Option(names = "--device", description = "Only this device's conflicts")
  String device;

  @Option(
      names = "--from",
      description =
          "Conflicts opened at or after this time (epoch ms or ISO-8601, e.g. 2026-12-06T00:00:00Z)")
  String from;

  @Option(names = "--to", description = "... and before this time (default: now)")
  String to;

  @Mixin JsonOutput output;

  @Override
  public Integer call() throws Exception {
    StringBuilder q = new StringBuilder();
    param(q, "collection", collection);
    param(q, "device", device);
    param(q, "from", from);
    param(q, "to", to);
    String url =
        parent.server + "/api/v1/reports/conflicts" + (q.length() == 0 ? "" : "?" + q.substring(1));
    JsonNode r = RemoteCommand.request(() -> parent.api().get(url));
    if (r == null) {
      return 1;
    }
    if (!output.printed(r)) {
      System.out.print(text(r));
    }
    return 0;
  }

  /** The report as text. */
  static String text(JsonNode r) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "conflicts %d (%s .. %s): %d open, %d resolved (%d automatically, %d by people),"
                + " %.4f per hour%n",
            r.get("conflicts").asLong(),
            StatusView.time(r.get("fromMs").asLong()),
            StatusView.time(r.get("toMs").asLong()),
            r.get("open").asLong(),
            r.get("resolved").asLong(),
            r.get("automatic").asLong(),
            r.get("manual").asLong(),
            r.get("perHour").asDouble()));
    if (!r.path("manualResolveMsMean").isNull()) {
      out.append(
          String.format(
              "people took %s on average, at most %s%n",
              StatusView.duration(r.get("manualResolveMsMean").asLong()),
              StatusView.duration(r.get("manualResolveMsMax").asLong())));
    }
    for (String by :
        new String[] {"byStrategy", "byOutcome", "byCollection", "byDevice", "resolvedBy"}) {
      out.append(String.format("%-13s", by)).append(counts(r.get(by))).append('\n');
    }
    if (r.path("truncated").asBoolean()) {
      out.append("(truncated: the server stopped after its scan limit; narrow the period)\n");
    }
    return out.toString();
  }

  private static String counts(JsonNode m) {
    StringBuilder s = new StringBuilder();
    Iterator<Map.Entry<String, JsonNode>> it = m.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      s.append(' ').append(e.getKey()).append('=').append(e.getValue().asLong());
    }
    return s.length() == 0 ? " -" : s.toString();
  }

  private static void param(StringBuilder q, String name, String value) {
    if (value != null) {
      q.append('&').append(name).append('=').append(RemoteCommand.enc(value));
    }
  }
}

package io.edgesync.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The MQTT bench's tables: every run, then min/median/max per target and the ratio. */
final class MqttReport {
  private MqttReport() {}

  /** Prints a Markdown table of the runs of one window size, in the order they ran. */
  static void runs(PrintStream out, MqttLoad.Settings s, List<MqttScenario.Run> runs) {
    out.println("Runs, " + s.describe() + ":");
    out.println();
    out.println(
        "| run | broker | msg/s | PUBACK p50 ms | p99 ms | max ms | published | PUBACKed |"
            + " broker CPU (cores) | generator CPU (cores) | broker RSS MiB | check | notes |");
    out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (MqttScenario.Run r : runs) {
      MqttLoad.Result l = r.load();
      out.println(
          String.format(
              Locale.ROOT,
              "| %d | %s | %s | %s | %s | %s | %,d | %,d | %s | %s | %s | %s | %s |",
              r.index(),
              r.target(),
              Stats.rate(l.rate()),
              Stats.num(l.latency().p50Ms()),
              Stats.num(l.latency().p99Ms()),
              Stats.num(l.latency().maxMs()),
              l.published(),
              l.pubacked(),
              r.brokerCores(),
              l.generatorCores(),
              r.brokerRssBytes() < 0 ? "-" : Long.toString(r.brokerRssBytes() >> 20),
              r.check().text(),
              r.details()));
    }
    out.println();
  }

  /** One row per target (min/median/max over its runs) into the bench's result table. */
  static void summary(
      List<String[]> rows, MqttLoad.Settings s, List<MqttScenario.Run> runs, boolean cloud) {
    List<MqttScenario.Run> mosquitto = of(runs, "mosquitto");
    List<MqttScenario.Run> agent = of(runs, "agent");
    String settings = s.describe() + "; " + runsOf(runs) + " alternating runs";
    if (!mosquitto.isEmpty()) {
      rows.add(
          new String[] {
            "mqtt: Mosquitto QoS 1 (in memory, not durable)",
            "(anchor)",
            figures(mosquitto),
            settings
          });
    }
    if (!agent.isEmpty()) {
      double p99 = median(agent, r -> r.load().latency().p99Ms());
      double x = median(agent, r -> r.load().rate()) / median(mosquitto, r -> r.load().rate());
      String ratio =
          mosquitto.isEmpty()
              ? String.format(Locale.ROOT, "; goal: p99 %s", p99 <= 10 ? "met" : "not met")
              : String.format(
                  Locale.ROOT,
                  "; **%.2f× Mosquitto** (median ÷ median); goal: rate %s, p99 %s",
                  x,
                  x >= 2 ? "met" : "not met",
                  p99 <= 10 ? "met" : "not met");
      rows.add(
          new String[] {
            "mqtt: agent QoS 1, PUBACK after the outbox commit (fsync)"
                + (cloud ? ", syncing to a local server" : ", offline"),
            MqttScenario.GOAL,
            figures(agent) + ratio + "; " + checks(agent),
            settings
          });
    }
  }

  private static String figures(List<MqttScenario.Run> runs) {
    return String.format(
        Locale.ROOT,
        "**%s msg/s** median (min %s, max %s); PUBACK p99 median %s ms (min %s, max %s), p50"
            + " median %s ms, max %s ms; broker CPU %s cores",
        Stats.rate(median(runs, r -> r.load().rate())),
        Stats.rate(min(runs, r -> r.load().rate())),
        Stats.rate(max(runs, r -> r.load().rate())),
        Stats.num(median(runs, r -> r.load().latency().p99Ms())),
        Stats.num(min(runs, r -> r.load().latency().p99Ms())),
        Stats.num(max(runs, r -> r.load().latency().p99Ms())),
        Stats.num(median(runs, r -> r.load().latency().p50Ms())),
        Stats.num(max(runs, r -> r.load().latency().maxMs())),
        runs.stream().map(MqttScenario.Run::brokerCores).toList());
  }

  private static String checks(List<MqttScenario.Run> runs) {
    long bad = runs.stream().filter(r -> !r.check().ok()).count();
    return bad == 0
        ? "outbox = PUBACKs in every run"
        : "**outbox ≠ PUBACKs in " + bad + " of " + runs.size() + " runs**";
  }

  private static List<MqttScenario.Run> of(List<MqttScenario.Run> runs, String target) {
    return runs.stream().filter(r -> r.target().equals(target)).toList();
  }

  private static long runsOf(List<MqttScenario.Run> runs) {
    return runs.stream().mapToInt(MqttScenario.Run::index).max().orElse(0);
  }

  static double median(List<MqttScenario.Run> runs, ToDoubleFunction<MqttScenario.Run> f) {
    double[] v = runs.stream().mapToDouble(f).sorted().toArray();
    int n = v.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static double min(List<MqttScenario.Run> runs, ToDoubleFunction<MqttScenario.Run> f) {
    return runs.stream().mapToDouble(f).min().orElse(Double.NaN);
  }

  private static double max(List<MqttScenario.Run> runs, ToDoubleFunction<MqttScenario.Run> f) {
    return runs.stream().mapToDouble(f).max().orElse(Double.NaN);
  }
}

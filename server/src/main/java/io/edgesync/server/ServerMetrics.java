package io.edgesync.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The server's metrics in Prometheus' text format, at {@code GET /api/v1/metrics} (an API key with
 * the viewer role, as every GET; docs/metrics.md names each one). Counters and gauges read the
 * server's own counts when scraped, so nothing is counted twice; those that read the store do so in
 * batches at most every 15 s ({@link #beforeScrape}: {@link StoreGauges}; the KPIs). The JVM's
 * memory, collections, threads, CPU and uptime come with them.
 *
 * <p>Names follow Prometheus' conventions: an {@code edgesync_} prefix, base units in the name, and
 * {@code _total} on counters (Micrometer adds it). Thread safe.
 */
final class ServerMetrics {
  /** The exposition format Prometheus asks for with {@code Accept: text/plain}. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  // Micrometer holds what a meter reads weakly; the suppliers live as long as the server here.
  private final List<LongSupplier> read = new CopyOnWriteArrayList<>();
  private final List<Runnable> beforeScrape = new CopyOnWriteArrayList<>();
  private final List<Supplier<String>> texts = new CopyOnWriteArrayList<>();

  ServerMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  /** A count that only grows, read from {@code value} at each scrape. */
  ServerMetrics counter(String name, String help, LongSupplier value, String... tags) {
    read.add(value);
    FunctionCounter.builder(name, value, v -> v.getAsLong())
        .description(help)
        .tags(tags)
        .register(registry);
    return this;
  }

  /** A value that goes up and down, read from {@code value} at each scrape. */
  ServerMetrics gauge(String name, String help, LongSupplier value, String... tags) {
    read.add(value);
    Gauge.builder(name, value, v -> v.getAsLong()).description(help).tags(tags).register(registry);
    return this;
  }

  /** For meters of their own (histograms): {@link SessionTimers}. */
  io.micrometer.core.instrument.MeterRegistry registry() {
    return registry;
  }

  /** A value between 0 and 1 (a ratio), read from {@code value} at each scrape. */
  ServerMetrics ratio(String name, String help, DoubleSupplier value) {
    return gauge(name, help, value);
  }

  /** Text in Prometheus' format appended to each scrape (series Micrometer cannot bound). */
  ServerMetrics text(Supplier<String> more) {
    texts.add(more);
    return this;
  }

  void register(RoutesConfig routes) {
    routes.get("/api/v1/metrics", this::scrape);
  }

  /** Runs {@code refresh} before each scrape (meters whose values are read in batches). */
  ServerMetrics beforeScrape(Runnable refresh) {
    beforeScrape.add(refresh);
    return this;
  }

  /** A value that may be unknown (NaN), read from {@code value} at each scrape. */
  ServerMetrics gauge(String name, String help, DoubleSupplier value) {
    Gauge.builder(name, value, v -> v.getAsDouble())
        .description(help)
        .strongReference(true)
        .register(registry);
    return this;
  }

  private void scrape(Context ctx) {
    beforeScrape.forEach(Runnable::run);
    StringBuilder out = new StringBuilder(registry.scrape());
    for (Supplier<String> t : texts) {
      out.append(t.get());
    }
    ctx.contentType(CONTENT_TYPE).result(out.toString());
  }

  void close() {
    gc.close();
    registry.close();
  }
}

package io.edgesync.agent.internal;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.Locale;

/**
 * The agent JVM's own memory in Prometheus' text format, appended to {@link AgentMetricsText} at
 * {@code GET /metrics}: heap and non-heap (metaspace, code cache, compressed class space) used and
 * committed, direct buffers, live threads, collections. An operator of a small gateway sees where
 * the agent's memory goes without attaching a tool; the bench {@code footprint} reads them from
 * outside. Values are read at each scrape from the platform MXBeans; thread safe.
 */
public final class JvmMetricsText {
  private JvmMetricsText() {}

  public static String render() {
    StringBuilder out = new StringBuilder(1024);
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    gauge(
        out,
        "edgesync_agent_jvm_heap_used_bytes",
        "Java heap in use (live data and garbage not yet collected)",
        heap.getUsed());
    gauge(
        out,
        "edgesync_agent_jvm_heap_committed_bytes",
        "Java heap the JVM has committed (at most -Xmx)",
        heap.getCommitted());
    gauge(out, "edgesync_agent_jvm_heap_max_bytes", "-Xmx (-1 if unbounded)", heap.getMax());
    gauge(
        out,
        "edgesync_agent_jvm_nonheap_used_bytes",
        "metaspace, compressed class space and code cache in use",
        nonHeap.getUsed());
    gauge(
        out,
        "edgesync_agent_jvm_nonheap_committed_bytes",
        "metaspace, compressed class space and code cache committed",
        nonHeap.getCommitted());
    long direct = 0;
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) {
        direct = pool.getMemoryUsed();
      }
    }
    gauge(out, "edgesync_agent_jvm_direct_buffer_bytes", "direct NIO buffers in use", direct);
    gauge(
        out,
        "edgesync_agent_jvm_threads",
        "live threads of the agent's JVM",
        ManagementFactory.getThreadMXBean().getThreadCount());
    long collections = 0;
    long collectionMs = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      collections += Math.max(0, gc.getCollectionCount());
      collectionMs += Math.max(0, gc.getCollectionTime());
    }
    counter(out, "edgesync_agent_jvm_gc_collections_total", "garbage collections", collections);
    out.append("# HELP edgesync_agent_jvm_gc_seconds_total time spent in garbage collections\n")
        .append("# TYPE edgesync_agent_jvm_gc_seconds_total counter\n")
        .append("edgesync_agent_jvm_gc_seconds_total ")
        .append(String.format(Locale.ROOT, "%.3f", collectionMs / 1000.0))
        .append('\n');
    return out.toString();
  }

  private static void gauge(StringBuilder out, String name, String help, long value) {
    family(out, name, "gauge", help, value);
  }

  private static void counter(StringBuilder out, String name, String help, long value) {
    family(out, name, "counter", help, value);
  }

  private static void family(StringBuilder out, String name, String type, String help, long v) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    out.append(name).append(' ').append(v).append('\n');
  }
}

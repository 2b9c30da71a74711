package io.edgesync.bench;

import java.util.Map;

/**
 * Samples the agent during one phase from a thread of its own: RSS and threads from {@code
 * /proc/<pid>/status} every 100 ms, the JVM's gauges from the agent's {@code GET /metrics} (heap,
 * non-heap, direct buffers) every second, and the CPU time. {@link #finish} stops it and returns
 * the phase's figures. One sampler per phase; {@link #finish} is called by the thread that started
 * it.
 */
final class FootprintSampler implements Runnable {
  /** A phase's figures: memory in bytes, -1 where nothing was read. */
  record Figures(
      String phase,
      double seconds,
      long rssMax,
      long rssAvg,
      long hwm,
      long rssAnonMax,
      int threadsMax,
      long heapUsedMax,
      long heapCommittedMax,
      long nonHeapCommittedMax,
      long directMax,
      long gcs,
      double cpuSeconds) {}

  private static final long PROC_EVERY_MS = 100;
  private static final long SCRAPE_EVERY_MS = 1000;

  private final String phase;
  private final FootprintAgent agent;
  private final FootprintApi api;
  private final Thread thread;
  private final long t0 = System.nanoTime();
  private final long cpu0;
  private volatile boolean running = true;

  // Written by the sampling thread, read after join.
  private long rssMax = -1;
  private long rssSum;
  private long rssCount;
  private long anonMax = -1;
  private int threadsMax = -1;
  private long heapUsedMax = -1;
  private long heapCommittedMax = -1;
  private long nonHeapMax = -1;
  private long directMax = -1;
  private long gcFirst = -1;
  private long gcLast = -1;

  private FootprintSampler(String phase, FootprintAgent agent, FootprintApi api) {
    this.phase = phase;
    this.agent = agent;
    this.api = api;
    this.cpu0 = agent.cpuTicks();
    this.thread = new Thread(this, "footprint-sampler");
    thread.setDaemon(true);
  }

  static FootprintSampler start(String phase, FootprintAgent agent, FootprintApi api) {
    FootprintSampler s = new FootprintSampler(phase, agent, api);
    s.thread.start();
    return s;
  }

  @Override
  public void run() {
    long nextScrape = 0;
    while (running && agent.isAlive()) {
      long now = System.currentTimeMillis();
      sampleProc();
      if (api != null && now >= nextScrape) {
        nextScrape = now + SCRAPE_EVERY_MS;
        sampleMetrics();
      }
      try {
        Thread.sleep(PROC_EVERY_MS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void sampleProc() {
    long rss = agent.status("VmRSS");
    if (rss < 0) {
      return;
    }
    rssMax = Math.max(rssMax, rss * 1024);
    rssSum += rss * 1024;
    rssCount++;
    anonMax = Math.max(anonMax, agent.status("RssAnon") * 1024);
    threadsMax = Math.max(threadsMax, (int) agent.status("Threads"));
  }

  private void sampleMetrics() {
    Map<String, Double> m = api.metrics();
    if (m.isEmpty()) {
      return; // not listening yet, or busy: the next second tries again
    }
    heapUsedMax = Math.max(heapUsedMax, value(m, "edgesync_agent_jvm_heap_used_bytes"));
    heapCommittedMax =
        Math.max(heapCommittedMax, value(m, "edgesync_agent_jvm_heap_committed_bytes"));
    nonHeapMax = Math.max(nonHeapMax, value(m, "edgesync_agent_jvm_nonheap_committed_bytes"));
    directMax = Math.max(directMax, value(m, "edgesync_agent_jvm_direct_buffer_bytes"));
    long gcs = value(m, "edgesync_agent_jvm_gc_collections_total");
    if (gcFirst < 0) {
      gcFirst = gcs;
    }
    gcLast = gcs;
  }

  private static long value(Map<String, Double> m, String name) {
    return m.getOrDefault(name, -1.0).longValue();
  }

  /** Stops sampling (after one last sample) and returns the phase's figures. */
  Figures finish() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(10_000);
    sampleProc();
    if (api != null) {
      sampleMetrics();
    }
    long cpu1 = agent.cpuTicks();
    return new Figures(
        phase,
        (System.nanoTime() - t0) / 1e9,
        rssMax,
        rssCount == 0 ? -1 : rssSum / rssCount,
        agent.status("VmHWM") * 1024,
        anonMax,
        threadsMax,
        heapUsedMax,
        heapCommittedMax,
        nonHeapMax,
        directMax,
        gcFirst < 0 ? -1 : gcLast - gcFirst,
        cpu0 < 0 || cpu1 < 0 ? -1 : (cpu1 - cpu0) / 100.0);
  }
}

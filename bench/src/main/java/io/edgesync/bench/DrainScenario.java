package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The edge side of a drain without network or cloud: read a batch and acknowledge it, the calls the
 * sync loop makes per batch, on a preloaded outbox. Its rate is the ceiling for {@link
 * SyncScenario}; read and acknowledge are timed separately, by remaining backlog.
 */
final class DrainScenario {
  record Result(
      long records,
      double recordsPerSecond,
      double readSeconds,
      double ackSeconds,
      String firstHalf,
      String secondHalf) {}

  static Result run(Path dir, Opts o) throws Exception {
    long n = o.longValue("records", 2_000_000);
    int recordBytes = o.integer("record-bytes", 150);
    int preloadCall = o.integer("preload-call", 1024);
    boolean full = o.bool("full-sync", true);
    SyncScenario.Tuning tuning = SyncScenario.Tuning.from(o);
    Path edgeDir = dir.resolve("drain-edge");
    AgentConfig config =
        SyncScenario.agentConfig(
            "bench-gw-drain", URI.create("ws://127.0.0.1:9/v1/sync"), edgeDir, tuning, full);
    Bench.logf(
        "drain (edge only, no network): %,d records, batches of %d records / %s",
        n, tuning.maxBatchRecords(), SyncScenario.bytes(tuning.maxBatchBytes()));
    SyncScenario.preload(config, n, recordBytes, preloadCall);
    Bench.log(
        "  preloaded; outbox " + SyncScenario.describeChunks(edgeDir.resolve("edgesync-agent.db")));
    try (SqliteOutbox outbox = OfflineOutbox.open(config, Clock.SYSTEM)) {
      long next = 1;
      long readNs = 0;
      long ackNs = 0;
      long[] halfRead = new long[2];
      long[] halfAck = new long[2];
      long[] halfRecords = new long[2];
      long t0 = System.nanoTime();
      while (next <= n) {
        long a = System.nanoTime();
        Outbox.Item item =
            outbox.read(
                SyncScenario.STREAM, next, tuning.maxBatchRecords(), tuning.maxBatchBytes());
        long b = System.nanoTime();
        if (!(item instanceof Outbox.Item.Records r)) {
          throw new IllegalStateException("expected records at " + next + ", got " + item);
        }
        outbox.acknowledge(SyncScenario.STREAM, item.lastSequence());
        long c = System.nanoTime();
        int h = next <= n / 2 ? 0 : 1;
        halfRead[h] += b - a;
        halfAck[h] += c - b;
        halfRecords[h] += r.records().size();
        readNs += b - a;
        ackNs += c - b;
        next = item.lastSequence() + 1;
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      Result res =
          new Result(
              n,
              n / secs,
              readNs / 1e9,
              ackNs / 1e9,
              half(halfRecords[0], halfRead[0], halfAck[0], tuning.maxBatchRecords()),
              half(halfRecords[1], halfRead[1], halfAck[1], tuning.maxBatchRecords()));
      Bench.logf(
          "drain: %s records/s (%,d in %.2f s): read %.2f s, acknowledge %.2f s; first half"
              + " of the backlog %s; second half %s",
          Stats.rate(res.recordsPerSecond()),
          n,
          secs,
          res.readSeconds(),
          res.ackSeconds(),
          res.firstHalf(),
          res.secondHalf());
      return res;
    }
  }

  private static String half(long records, long readNs, long ackNs, int batch) {
    double batches = Math.max(1, records / (double) batch);
    return String.format(
        Locale.ROOT,
        "read %.1f ms + ack %.1f ms per %d-record batch",
        readNs / 1e6 / batches,
        ackNs / 1e6 / batches,
        batch);
  }
}

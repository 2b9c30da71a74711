package io.edgesync.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgesync.agent.internal.docs.DocsFile;
import io.edgesync.agent.internal.docs.LocalDocuments;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.testing.FakeClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deduplication on the edge, against real SQLite files: a stream's dedup window (records equal to
 * one of its last N are not appended, the result says which earlier record they equal, the window
 * survives a restart), and a document put of the value it already holds (no change, nothing to
 * send).
 */
class DeduplicationTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(T0);
  private final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
  }

  private SqliteOutbox outbox(Map<String, Integer> windows) throws Exception {
    SqliteOutbox o =
        new SqliteOutbox(
            dir.resolve("outbox.db"), OutboxLimits.defaults(), Map.of(), windows, 10, clock);
    opened.add(o);
    return o;
  }

  private static SqliteOutbox.Appended append(SqliteOutbox o, String stream, String... payloads)
      throws Exception {
    List<byte[]> list = new ArrayList<>();
    for (String p : payloads) {
      list.add(p.getBytes(UTF_8));
    }
    return o.appendDetailed(stream, list).get(10, TimeUnit.SECONDS);
  }

  private static List<String> stored(SqliteOutbox o, String stream) {
    List<String> out = new ArrayList<>();
    Outbox.Item item = o.read(stream, 1, 1000, Long.MAX_VALUE);
    if (item instanceof Outbox.Item.Records r) {
      r.records().forEach(rec -> out.add(new String(rec.payload(), UTF_8)));
    }
    return out;
  }

  @Test
  void dedupWindow_recordsEqualToOneOfTheLastN_areNotAppended_andTheResultNamesTheEarlierOne()
      throws Exception {
    SqliteOutbox o = outbox(Map.of("status", 3));

    assertThat(append(o, "status", "on", "off"))
        .isEqualTo(new SqliteOutbox.Appended(1, 2, List.of()));
    // "on" = record 1; "idle" is new; "idle" again within the same call = the one just appended.
    SqliteOutbox.Appended r = append(o, "status", "on", "idle", "idle");
    assertThat(r.firstSequence()).isEqualTo(3);
    assertThat(r.count()).isEqualTo(1);
    assertThat(r.duplicates())
        .containsExactly(new SqliteOutbox.Duplicate(0, 1), new SqliteOutbox.Duplicate(2, 3));
    assertThat(stored(o, "status")).containsExactly("on", "off", "idle");
    assertThat(o.duplicateRecords()).isEqualTo(2);

    // Window 3 holds records 1..3 ("on", "off", "idle"); "x" pushes "on" out of it.
    append(o, "status", "x");
    SqliteOutbox.Appended again = append(o, "status", "on", "off");
    assertThat(again.firstSequence()).isEqualTo(5);
    assertThat(again.count()).isEqualTo(1);
    assertThat(again.duplicates()).containsExactly(new SqliteOutbox.Duplicate(1, 2));
    assertThat(stored(o, "status")).containsExactly("on", "off", "idle", "x", "on");
  }

  @Test
  void dedupWindow_onlyForStreamsThatDeclareIt() throws Exception {
    SqliteOutbox o = outbox(Map.of("status", 10));

    append(o, "logs", "same", "same", "same");

    assertThat(stored(o, "logs")).containsExactly("same", "same", "same");
    assertThat(o.duplicateRecords()).isZero();
  }

  @Test
  void dedupWindow_aCallOfOnlyDuplicates_appendsNothing() throws Exception {
    SqliteOutbox o = outbox(Map.of("status", 10));
    append(o, "status", "a");

    SqliteOutbox.Appended r = append(o, "status", "a", "a");

    assertThat(r)
        .isEqualTo(
            new SqliteOutbox.Appended(
                0, 0, List.of(new SqliteOutbox.Duplicate(0, 1), new SqliteOutbox.Duplicate(1, 1))));
    assertThat(o.streams().get(0).lastSequence()).isEqualTo(1);
  }

  @Test
  void dedupWindow_survivesARestart() throws Exception {
    SqliteOutbox first = outbox(Map.of("status", 5));
    append(first, "status", "a", "b");
    first.close();
    opened.remove(first);

    SqliteOutbox reopened = outbox(Map.of("status", 5));
    SqliteOutbox.Appended r = append(reopened, "status", "b", "c");

    assertThat(r.duplicates()).containsExactly(new SqliteOutbox.Duplicate(0, 2));
    assertThat(r.firstSequence()).isEqualTo(3);
    assertThat(stored(reopened, "status")).containsExactly("a", "b", "c");
  }

  @Test
  void concurrentAppendsInOneGroupCommit_seeEachOther() throws Exception {
    SqliteOutbox o = outbox(Map.of("status", 100));
    List<CompletableFuture<SqliteOutbox.Appended>> futures = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      futures.add(o.appendDetailed("status", List.of(("v" + (i % 5)).getBytes(UTF_8))));
    }
    long appended = 0;
    long duplicates = 0;
    for (CompletableFuture<SqliteOutbox.Appended> f : futures) {
      SqliteOutbox.Appended a = f.get(10, TimeUnit.SECONDS);
      appended += a.count();
      duplicates += a.duplicates().size();
    }
    assertThat(appended).isEqualTo(5);
    assertThat(duplicates).isEqualTo(45);
    assertThat(stored(o, "status")).containsExactlyInAnyOrder("v0", "v1", "v2", "v3", "v4");
  }

  @Test
  void agentAppend_reportsDuplicatesWithTheEarlierOperationId() throws Exception {
    AgentConfig config =
        AgentConfig.fromYaml(
            "device: {id: dev-1}\n"
                + "server: {url: \"ws://127.0.0.1:9/v1/sync\"}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve("agent").toString().replace("\\", "/")
                + "\"}, directions: {edge_to_cloud: {enabled: false}}}\n"
                + "streams: {status: {dedup_window: 10}}\n"
                + "local_api: {port: -1}\n");
    EdgeAgent agent = EdgeAgent.open(config);
    opened.add(agent);

    agent.appendAll("status", List.of("a".getBytes(UTF_8), "b".getBytes(UTF_8)));
    AppendResult r = agent.appendAll("status", List.of("b".getBytes(UTF_8), "c".getBytes(UTF_8)));

    assertThat(r.count()).isEqualTo(1);
    assertThat(r.duplicates()).containsExactly(new AppendResult.Duplicate(0, 2));
    assertThat(r.operationIds()).containsExactly("status/2", "status/3");
    assertThat(agent.metrics().duplicateRecords()).isEqualTo(1);
    assertThat(agent.status().bandwidth().duplicateRecords()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- documents

  private LocalDocuments docs(boolean dedup) throws Exception {
    DocsFile d =
        new DocsFile(
            dir.resolve("docs-" + dedup + ".db"),
            "dev-1",
            Set.of("config"),
            1 << 16,
            300_000,
            true,
            dedup,
            clock);
    opened.add(d);
    return d.replica();
  }

  private static ObjectNode value(int rate) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("rate", rate);
    n.put("mode", "auto");
    return n;
  }

  @Test
  void documentPutOfTheSameValue_changesNothing_andSendsNothing() throws Exception {
    LocalDocuments d = docs(true);
    d.put("config", "k", value(5));
    List<DocChange> first = d.pendingChanges(0, 100, 1 << 20);
    assertThat(first).hasSize(1);

    // Equal JSON, built differently (long vs int, other key order): still the same value.
    ObjectNode same = JsonNodeFactory.instance.objectNode();
    same.put("mode", "auto");
    same.put("rate", 5L);
    Document after = d.put("config", "k", same);

    assertThat(d.pendingChanges(first.get(0).getChangeSeq(), 100, 1 << 20)).isEmpty();
    assertThat(d.pendingChanges(0, 100, 1 << 20)).hasSize(1);
    assertThat(after.value()).isEqualTo(value(5));
    assertThat(d.deduplicatedCount()).isEqualTo(1);

    d.put("config", "k", value(6));
    assertThat(d.pendingChanges(first.get(0).getChangeSeq(), 100, 1 << 20)).hasSize(1);
  }

  @Test
  void documentDedupOff_sendsTheSameValueAgain() throws Exception {
    LocalDocuments d = docs(false);
    d.put("config", "k", value(5));
    long seq = d.pendingChanges(0, 100, 1 << 20).get(0).getChangeSeq();

    d.put("config", "k", value(5));

    assertThat(d.pendingChanges(seq, 100, 1 << 20)).hasSize(1);
    assertThat(d.deduplicatedCount()).isZero();
  }
}

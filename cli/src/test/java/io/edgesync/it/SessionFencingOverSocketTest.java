package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two server nodes on one store, over real sockets: a device's newer session through the second
 * node ends its older session on the first at that session's next commit, which stores nothing, and
 * the second node continues from what the first committed.
 */
class SessionFencingOverSocketTest {
  @TempDir Path dir;
  private final List<SyncServer> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(SyncServer::close);
  }

  /**
   * A node on the shared store file. (SyncServer.start(config) locks the data directory for one
   * server; nodes on one SQLite file are this test's device only, to show fencing at the commit
   * without the PostgreSQL cluster bus, which would end the older session first.)
   */
  private SyncServer node() throws Exception {
    SyncServer s =
        SyncServer.start(
            ServerConfig.defaults(dir.resolve("cloud")).withAddress("127.0.0.1", 0),
            new SqliteCloudStore(dir.resolve("cloud").resolve(SyncServer.STORE_FILE)),
            io.edgesync.protocol.Clock.SYSTEM);
    nodes.add(s);
    return s;
  }

  @Test
  void aSessionOnAnotherNode_fencesTheOlderOne_whichEndsAsReplaced_andStoresNothing()
      throws Exception {
    SyncServer node1 = node();
    SyncServer node2 = node();
    RawClient old = RawClient.welcomed(node1.syncUrl(), RawClient.hello("d1"));
    old.send(batch(1, 3));
    assertThat(old.next().getAck().getSequence()).isEqualTo(3);

    RawClient newer = RawClient.welcomed(node2.syncUrl(), RawClient.hello("d1"));
    old.send(batch(4, 2)); // the old node still thinks it holds the device

    assertThat(old.closeStatus.get(5, TimeUnit.SECONDS))
        .startsWith("1000 ")
        .contains("newer session through another server node");
    assertThat(node1.sessionsReplaced()).isEqualTo(1);
    assertThat(node1.sessionsRefused()).isZero();
    newer.send(batch(4, 2));
    assertThat(newer.next().getAck().getSequence()).isEqualTo(5);
    try (SqliteCloudStore store =
        new SqliteCloudStore(dir.resolve("cloud").resolve(SyncServer.STORE_FILE))) {
      assertThat(store.read("d1", "telemetry", 0, 100))
          .extracting(Record::sequence)
          .containsExactly(1L, 2L, 3L, 4L, 5L);
      assertThat(store.streams("d1").get(0).records()).isEqualTo(5);
    }
  }

  private static Frame.Builder batch(long first, int count) {
    List<Record> records = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      records.add(
          new Record(first + i, 1_000 + i, ("{\"n\":" + (first + i) + "}").getBytes(UTF_8)));
    }
    return Frame.newBuilder()
        .setBatch(
            RecordBatch.newBuilder()
                .setStream("telemetry")
                .setFirstSequence(first)
                .setCount(count)
                .setPayload(ByteString.copyFrom(RecordLayout.encode(records))));
  }
}

package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cloud's side of document deduplication, on a real SQLite store: a device's change to the
 * value the document already holds (not concurrent) makes no new version and wakes no other reader,
 * yet the device still gets its outcome — the current version, naming its change — before the
 * DocAck, so its pending edit settles exactly as after a write.
 */
class DocumentDedupTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  private final List<Frame> out = new ArrayList<>();

  private static Frame change(long seq, long base, String json) {
    return Frame.newBuilder()
        .setDocChanges(
            DocChanges.newBuilder()
                .addChanges(
                    DocChange.newBuilder()
                        .setChangeSeq(seq)
                        .setCollection("config")
                        .setKey("k")
                        .setBaseVersion(base)
                        .setHlc(new Hlc(T0 + seq, 0, "dev-1").toWire())
                        .setValue(ByteString.copyFrom(json, UTF_8))))
        .build();
  }

  private record Run(List<DocUpdate> updates, long ack, long version, int wakeups) {}

  private Run run(boolean dedup) throws Exception {
    out.clear();
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("c-" + dedup + ".db"))) {
      DocumentRules rules =
          DocumentRules.of(Map.of("config", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS)))
              .withDeduplicate(dedup);
      Clock clock = () -> T0;
      CloudDocuments docs = new CloudDocuments(store.documents(), rules, clock);
      AtomicInteger wakeups = new AtomicInteger();
      docs.onChange(scopes -> wakeups.incrementAndGet());
      CloudSession session = helloed(store, docs);
      session.onFrame(T0, FrameCodec.encode(change(1, 0, "{\"rate\":5}")));
      long v1 = lastDocUpdate().getVersion();
      assertThat(wakeups.get()).isEqualTo(1);
      out.clear();

      // The same value again, on the version it was written as (say the device wrote 6 then 5
      // before sending: only the latest travels).
      session.onFrame(T0, FrameCodec.encode(change(2, v1, "{ \"rate\" : 5 }")));

      List<DocUpdate> updates = new ArrayList<>();
      long ack = -1;
      for (Frame f : out) {
        if (f.hasDocUpdates()) {
          assertThat(ack).as("outcome before the ack").isEqualTo(-1);
          updates.addAll(f.getDocUpdates().getUpdatesList());
        } else if (f.hasDocAck()) {
          ack = f.getDocAck().getChangeSeq();
        }
      }
      DocumentStore.StoredDoc current =
          store.documents().inTransaction(tx -> tx.doc("device:dev-1", "config", "k"));
      session.onClosed(T0);
      return new Run(updates, ack, current.version() - v1, wakeups.get() - 1);
    }
  }

  /** A session of dev-1 past its Hello, its frames going to {@link #out}. */
  private CloudSession helloed(SqliteCloudStore store, CloudDocuments docs) {
    CloudSession session =
        new CloudSession(
            ServerPolicy.defaults(),
            store,
            docs,
            store.commands(),
            new CloudSession.Io() {
              @Override
              public void send(Frame frame) {
                out.add(frame);
              }

              @Override
              public void close(String reason) {
                throw new AssertionError("closed: " + reason);
              }
            });
    session.onFrame(
        T0,
        FrameCodec.encode(
            Frame.newBuilder()
                .setHello(Hello.newBuilder().setProtocolVersion(1).setDeviceId("dev-1"))
                .build()));
    return session;
  }

  private static DocChange.Builder changeOf(long seq, String key) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setCollection("config")
        .setKey(key)
        .setHlc(new Hlc(T0 + seq, 0, "dev-1").toWire());
  }

  @Test
  void outcomesOfManyProcessedChangesSentAgain_goInFramesWithinTheFrameLimit() throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("big.db"))) {
      CloudDocuments docs =
          new CloudDocuments(
              store.documents(),
              DocumentRules.of(
                  Map.of("config", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS))),
              () -> T0);
      CloudSession session = helloed(store, docs);
      String big = "{\"v\":\"" + "x".repeat(100_000) + "\"}";
      int keys = 60; // 6 MB of current values: more than one frame may carry
      for (int i = 1; i <= keys; i++) {
        session.onFrame(
            T0,
            FrameCodec.encode(
                Frame.newBuilder()
                    .setDocChanges(
                        DocChanges.newBuilder()
                            .addChanges(
                                changeOf(i, "k" + i).setValue(ByteString.copyFrom(big, UTF_8))))
                    .build()));
      }
      out.clear();

      // After a reconnect the device sends every processed change whose outcome it did not see:
      // small merge patches here, each answered with its key's whole current value.
      DocChanges.Builder again = DocChanges.newBuilder();
      for (int i = 1; i <= keys; i++) {
        again.addChanges(
            changeOf(i, "k" + i).setBaseVersion(i).setMergePatch(ByteString.copyFromUtf8("{}")));
      }
      session.onFrame(T0, FrameCodec.encode(Frame.newBuilder().setDocChanges(again).build()));

      List<Frame> echoes = out.stream().filter(Frame::hasDocUpdates).toList();
      assertThat(echoes).hasSizeGreaterThan(1);
      for (Frame f : echoes) {
        assertThat(FrameCodec.encode(f).length)
            .isLessThanOrEqualTo(ServerPolicy.defaults().maxFrameBytes());
      }
      assertThat(echoes.stream().mapToInt(f -> f.getDocUpdates().getUpdatesCount()).sum())
          .isEqualTo(keys);
      assertThat(out.get(out.size() - 1).getDocAck().getChangeSeq()).isEqualTo(keys);
      session.onClosed(T0);
    }
  }

  private DocUpdate lastDocUpdate() {
    for (int i = out.size() - 1; i >= 0; i--) {
      if (out.get(i).hasDocUpdates()) {
        return out.get(i).getDocUpdates().getUpdates(0);
      }
    }
    throw new AssertionError("no DocUpdates in " + out);
  }

  @Test
  void sameValueAgain_makesNoVersion_wakesNoReader_butTheDeviceGetsItsOutcome() throws Exception {
    Run r = run(true);

    assertThat(r.version()).as("versions added").isZero();
    assertThat(r.wakeups()).isZero();
    assertThat(r.ack()).isEqualTo(2);
    assertThat(r.updates()).hasSize(1);
    DocUpdate outcome = r.updates().get(0);
    assertThat(outcome.getOriginChangeSeq()).isEqualTo(2);
    assertThat(outcome.getScope()).isEqualTo("device");
    assertThat(outcome.getValue().toStringUtf8()).isEqualTo("{\"rate\":5}");
  }

  @Test
  void withDeduplicationOff_theSameValueIsANewVersion() throws Exception {
    Run r = run(false);

    assertThat(r.version()).as("versions added").isEqualTo(1);
    assertThat(r.wakeups()).isEqualTo(1);
    assertThat(r.ack()).isEqualTo(2);
    assertThat(r.updates()).hasSize(1);
    assertThat(r.updates().get(0).getOriginChangeSeq()).isEqualTo(2);
  }
}

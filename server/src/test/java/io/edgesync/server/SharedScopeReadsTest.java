package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.engine.docs.ForwardingDocumentStore;
import io.edgesync.testing.FakeClock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link SharedScopeReads} over a real store: one read serves many pushes, never a stale one. */
@ParameterizedClass
@EnumSource(StoreKind.class)
class SharedScopeReadsTest {
  @RegisterExtension final StoreFile db;

  SharedScopeReadsTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  private SharedScopeReads reads;
  private CloudDocuments docs;

  private void open() throws Exception {
    open(store -> store);
  }

  private void open(UnaryOperator<DocumentStore> underneath) throws Exception {
    reads = new SharedScopeReads(underneath.apply(db.open().documents()));
    docs =
        new CloudDocuments(
            reads,
            new DocumentRules(
                Map.of("cfg", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS)),
                4096,
                60_000,
                false),
            new FakeClock(1_700_000_000_000L));
    docs.onChange(reads::changed); // as the server does, at commit
  }

  private StoredDoc put(String scope, String key, String json) {
    return docs.put(scope, "cfg", key, json.getBytes(UTF_8), null);
  }

  private static List<Long> versions(List<StoredDoc> docs) {
    return docs.stream().map(StoredDoc::version).toList();
  }

  @Test
  void sessionsAtTheSameCursor_shareOneRead_untilTheScopeChanges() throws Exception {
    open();
    long v1 = put("fleet", "a", "{\"x\":1}").version();

    for (int session = 0; session < 100; session++) {
      assertThat(versions(reads.changesAfter("fleet", 0, 64))).containsExactly(v1);
    }
    assertThat(reads.reads()).isEqualTo(1);
    assertThat(reads.sharedReads()).isEqualTo(99);

    long v2 = put("fleet", "b", "{\"x\":2}").version();
    assertThat(versions(reads.changesAfter("fleet", 0, 64)))
        .as("read again after the change")
        .containsExactly(v1, v2);
    assertThat(versions(reads.changesAfter("fleet", v1, 64))).containsExactly(v2);
    assertThat(reads.reads()).isEqualTo(3);
  }

  @Test
  void anAnswerReadBeforeAChange_isNeverServedAfterIt_thoughKeptAfterIt() throws Exception {
    AtomicBoolean commitDuringRead = new AtomicBoolean();
    open(
        store ->
            new ForwardingDocumentStore(store) {
              @Override
              public List<StoredDoc> changesAfter(String scope, long afterVersion, int limit) {
                List<StoredDoc> answer = delegate.changesAfter(scope, afterVersion, limit);
                if (commitDuringRead.getAndSet(false)) {
                  put("fleet", "b", "{\"x\":2}"); // committed and marked before the answer is kept
                }
                return answer;
              }
            });
    long v1 = put("fleet", "a", "{\"x\":1}").version();
    commitDuringRead.set(true);
    assertThat(versions(reads.changesAfter("fleet", 0, 64))).containsExactly(v1);

    assertThat(versions(reads.changesAfter("fleet", 0, 64)))
        .as("the stale answer kept is not served")
        .hasSize(2);
    assertThat(reads.sharedReads()).isZero();

    reads.changesAfter("fleet", 0, 64);
    assertThat(reads.sharedReads()).isEqualTo(1);
    reads.changedAll(); // a bus that lost its connection: every scope may have changed
    reads.changesAfter("fleet", 0, 64);
    assertThat(reads.sharedReads()).isEqualTo(1);
  }

  @Test
  void aDeviceScope_keepsOnlyNothingNew_andAChangeElsewhereLeavesItShared() throws Exception {
    open();
    long v = put("device:d1", "a", "{\"x\":1}").version();

    assertThat(versions(reads.changesAfter("device:d1", 0, 64))).containsExactly(v);
    assertThat(versions(reads.changesAfter("device:d1", 0, 64))).containsExactly(v);
    assertThat(reads.sharedReads()).as("a device's versions are read by one session").isZero();

    assertThat(reads.changesAfter("device:d1", v, 64)).isEmpty();
    put("fleet", "f", "{\"x\":2}"); // another scope changes
    assertThat(reads.changesAfter("device:d1", v, 64)).isEmpty();
    assertThat(reads.sharedReads()).isEqualTo(1);

    long v2 = put("device:d1", "a", "{\"x\":3}").version();
    assertThat(versions(reads.changesAfter("device:d1", v, 64))).containsExactly(v2);
    assertThat(Set.of(reads.reads())).containsExactly(4L);
  }
}

package io.edgesync.engine.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.engine.docs.ConflictDecider.Change;
import io.edgesync.engine.docs.ConflictDecider.Current;
import io.edgesync.engine.docs.ConflictDecider.Decision;
import io.edgesync.engine.docs.ConflictDecider.Kind;
import io.edgesync.protocol.Hlc;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The conflict decision as a pure function: concurrency by base version and writer, each strategy's
 * outcome and the attribution (writer, foreignVersion) of the version it produces.
 */
class ConflictDeciderTest {
  private static final String CLOUD = ConflictDecider.CLOUD;
  private static final String SCOPE = "fleet";
  private static final String COLLECTION = "config";
  private static final String KEY = "pump-1";

  private static final JsonNode BASE = json("{\"a\":1,\"b\":1,\"c\":1}");
  private static final JsonNode CLOUD_VALUE = json("{\"a\":1,\"b\":1,\"c\":2}"); // c changed
  private static final JsonNode EDGE_VALUE = json("{\"a\":9,\"b\":1,\"c\":1}"); // a changed

  private static final Hlc EARLY = new Hlc(1_000, 0, "x");
  private static final Hlc LATE = new Hlc(2_000, 0, "x");

  private static JsonNode json(String s) {
    return JsonDocs.parse(s);
  }

  /** The cloud wrote version 5 after the base, version 3, that the edge's change was made on. */
  private static Current cloudAhead(JsonNode value, Hlc hlc) {
    return new Current(5, value, hlc, CLOUD, 0, false);
  }

  private static Change edge(String device, long base, Hlc hlc, JsonNode value) {
    return new Change(device, 11, base, new Hlc(hlc.wallMs(), hlc.logical(), device), value);
  }

  private static Decision decide(Current current, JsonNode base, Change change, ConflictPolicy p) {
    return ConflictDecider.decide(current, base, change, p, SCOPE, COLLECTION, KEY);
  }

  /** gw-1's change on the base (version 3) while the cloud holds version 5: concurrent. */
  private static Decision concurrentEdit(
      JsonNode cloud, Hlc cloudHlc, JsonNode edgeValue, Hlc edgeHlc, ConflictPolicy p) {
    return decide(cloudAhead(cloud, cloudHlc), BASE, edge("gw-1", 3, edgeHlc, edgeValue), p);
  }

  private static ConflictPolicy policy(ConflictStrategy s) {
    return ConflictPolicy.of(s);
  }

  // ------------------------------------------------------------------ concurrency

  @Test
  void concurrent_byAnotherWriter_whenTheBaseIsOlderThanTheCurrentVersion() {
    Change onV5 = edge("gw-1", 5, LATE, EDGE_VALUE);
    Change onV4 = edge("gw-1", 4, LATE, EDGE_VALUE);
    assertThat(ConflictDecider.concurrent(CLOUD, 5, 0, onV5)).isFalse();
    assertThat(ConflictDecider.concurrent(CLOUD, 5, 0, onV4)).isTrue();
    assertThat(ConflictDecider.concurrent("gw-2", 5, 3, onV4)).isTrue();
    assertThat(ConflictDecider.concurrent("gw-2", 5, 3, onV5)).isFalse();
  }

  @Test
  void concurrent_ownWrites_comparedWithTheLastForeignVersion() {
    // gw-1 wrote version 7 on top of its own version 6, which it wrote on the cloud's version 5
    assertThat(ConflictDecider.concurrent("gw-1", 7, 5, edge("gw-1", 5, LATE, EDGE_VALUE)))
        .isFalse();
    assertThat(ConflictDecider.concurrent("gw-1", 7, 5, edge("gw-1", 6, LATE, EDGE_VALUE)))
        .isFalse();
    assertThat(ConflictDecider.concurrent("gw-1", 7, 5, edge("gw-1", 4, LATE, EDGE_VALUE)))
        .isTrue();
    // the same version seen from another device: anything before 7 is concurrent
    assertThat(ConflictDecider.concurrent("gw-1", 7, 5, edge("gw-2", 6, LATE, EDGE_VALUE)))
        .isTrue();
  }

  @Test
  void noCurrentVersion_fastForwards() {
    Decision d =
        decide(null, null, edge("gw-1", 0, EARLY, EDGE_VALUE), policy(ConflictStrategy.MANUAL));
    assertThat(d.kind()).isEqualTo(Kind.FAST_FORWARD);
    assertThat(d.value()).isEqualTo(EDGE_VALUE);
    assertThat(d.outcome()).isEqualTo("edge");
    assertThat(d.writer()).isEqualTo("gw-1");
    assertThat(d.foreignVersion()).isZero();
    assertThat(d.flagged()).isFalse();
  }

  @Test
  void baseEqualToTheCurrentVersion_fastForwards_andRemembersItAsTheForeignVersion() {
    Decision d =
        decide(
            cloudAhead(CLOUD_VALUE, LATE),
            CLOUD_VALUE,
            edge("gw-1", 5, EARLY, EDGE_VALUE), // an earlier HLC does not matter: not concurrent
            policy(ConflictStrategy.CLOUD_WINS));
    assertThat(d.kind()).isEqualTo(Kind.FAST_FORWARD);
    assertThat(d.value()).isEqualTo(EDGE_VALUE);
    assertThat(d.writer()).isEqualTo("gw-1");
    assertThat(d.foreignVersion()).isEqualTo(5);
    assertThat(d.fieldConflicts()).isEmpty();
  }

  @Test
  void aDeviceEditingTwiceBeforeHearingBack_doesNotConflictWithItself_butAnotherDeviceDoes() {
    ConflictPolicy manual = policy(ConflictStrategy.MANUAL);
    Current v3 = new Current(3, BASE, EARLY, CLOUD, 0, false);
    // gw-1 edits on version 3; the cloud stores it as version 6
    Decision first = decide(v3, BASE, edge("gw-1", 3, LATE, EDGE_VALUE), manual);
    assertThat(first.kind()).isEqualTo(Kind.FAST_FORWARD);
    Current v6 = new Current(6, first.value(), LATE, first.writer(), first.foreignVersion(), false);
    assertThat(v6.writer()).isEqualTo("gw-1");
    assertThat(v6.foreignVersion()).isEqualTo(3);

    // gw-1 edits again, still on version 3 (it has not seen version 6 yet)
    JsonNode again = json("{\"a\":10,\"b\":1,\"c\":1}");
    Decision second = decide(v6, BASE, edge("gw-1", 3, new Hlc(3_000, 0, "x"), again), manual);
    assertThat(second.kind()).isEqualTo(Kind.FAST_FORWARD);
    assertThat(second.value()).isEqualTo(again);
    assertThat(second.foreignVersion()).isEqualTo(3);

    // gw-2's edit on version 3 is concurrent with gw-1's version 6
    Decision other = decide(v6, BASE, edge("gw-2", 3, new Hlc(3_000, 0, "x"), CLOUD_VALUE), manual);
    assertThat(other.kind()).isEqualTo(Kind.OPEN);
  }

  @Test
  void aChangeOnABaseBeforeTheDevicesOwnRun_isConcurrentWithTheForeignWrite() {
    // version 7 by gw-1, whose run started after the cloud's version 5
    Current v7 = new Current(7, EDGE_VALUE, LATE, "gw-1", 5, false);
    Decision d =
        decide(
            v7,
            BASE,
            edge("gw-1", 4, new Hlc(3_000, 0, "x"), CLOUD_VALUE),
            policy(ConflictStrategy.MANUAL));
    assertThat(d.kind()).isEqualTo(Kind.OPEN);
  }

  @Test
  void concurrentButEqualValues_fastForward() {
    Decision d =
        concurrentEdit(
            EDGE_VALUE, LATE, EDGE_VALUE.deepCopy(), EARLY, policy(ConflictStrategy.MANUAL));
    assertThat(d.kind()).isEqualTo(Kind.FAST_FORWARD);
    assertThat(d.writer()).isEqualTo("gw-1");
    assertThat(d.foreignVersion()).isEqualTo(5);
    assertThat(d.flagged()).isFalse();

    Decision bothDeleted = concurrentEdit(null, LATE, null, EARLY, policy(ConflictStrategy.MANUAL));
    assertThat(bothDeleted.kind()).isEqualTo(Kind.FAST_FORWARD);
    assertThat(bothDeleted.value()).isNull();
  }

  // ------------------------------------------------------------------ strategies

  @Test
  void lastWriteWins_edgeLater_takesTheEdgeValue_attributedToTheDevice() {
    Decision d =
        concurrentEdit(
            CLOUD_VALUE, EARLY, EDGE_VALUE, LATE, policy(ConflictStrategy.LAST_WRITE_WINS));
    assertResolved(d, EDGE_VALUE, "edge", "gw-1", 3);
  }

  @Test
  void lastWriteWins_cloudLater_keepsTheCloudValue() {
    Decision d =
        concurrentEdit(
            CLOUD_VALUE, LATE, EDGE_VALUE, EARLY, policy(ConflictStrategy.LAST_WRITE_WINS));
    assertResolved(d, CLOUD_VALUE, "cloud", CLOUD, 0);
  }

  @Test
  void lastWriteWins_equalWallAndCounter_brokenByNodeId() {
    Hlc same = new Hlc(5_000, 2, "unused");
    Current byGwA = new Current(5, CLOUD_VALUE, new Hlc(5_000, 2, "gw-a"), "gw-a", 0, false);
    Current byGwB = new Current(5, CLOUD_VALUE, new Hlc(5_000, 2, "gw-b"), "gw-b", 0, false);
    ConflictPolicy lww = policy(ConflictStrategy.LAST_WRITE_WINS);

    Decision bWins = decide(byGwA, BASE, edge("gw-b", 3, same, EDGE_VALUE), lww);
    Decision aLoses = decide(byGwB, BASE, edge("gw-a", 3, same, EDGE_VALUE), lww);

    assertResolved(bWins, EDGE_VALUE, "edge", "gw-b", 3);
    assertResolved(aLoses, CLOUD_VALUE, "cloud", CLOUD, 0);
  }

  @Test
  void cloudWins_keepsTheCloudValue_evenWhenTheEdgeIsLater() {
    Decision d =
        concurrentEdit(CLOUD_VALUE, EARLY, EDGE_VALUE, LATE, policy(ConflictStrategy.CLOUD_WINS));
    assertResolved(d, CLOUD_VALUE, "cloud", CLOUD, 0);
  }

  @Test
  void edgeWins_takesTheEdgeValue_evenWhenTheCloudIsLater_andTheDevicesNextEditFollowsFromIt() {
    Decision d =
        concurrentEdit(CLOUD_VALUE, LATE, EDGE_VALUE, EARLY, policy(ConflictStrategy.EDGE_WINS));
    assertResolved(d, EDGE_VALUE, "edge", "gw-1", 3);

    // stored as version 6; gw-1's next edit, still on version 3, is not a conflict again
    Current v6 = new Current(6, d.value(), EARLY, d.writer(), d.foreignVersion(), false);
    Decision next =
        decide(
            v6,
            BASE,
            edge("gw-1", 3, new Hlc(3_000, 0, "x"), BASE),
            policy(ConflictStrategy.EDGE_WINS));
    assertThat(next.kind()).isEqualTo(Kind.FAST_FORWARD);
  }

  @Test
  void edgeWins_ofADelete_deletes() {
    Decision d = concurrentEdit(CLOUD_VALUE, LATE, null, EARLY, policy(ConflictStrategy.EDGE_WINS));
    assertResolved(d, null, "edge", "gw-1", 3);
  }

  @Test
  void manual_leavesTheCloudValue_andOpensAConflict() {
    Decision d =
        concurrentEdit(CLOUD_VALUE, EARLY, EDGE_VALUE, LATE, policy(ConflictStrategy.MANUAL));
    assertThat(d.kind()).isEqualTo(Kind.OPEN);
    assertThat(d.value()).isEqualTo(CLOUD_VALUE);
    assertThat(d.outcome()).isEqualTo("open");
    assertThat(d.writer()).isEqualTo(CLOUD);
    assertThat(d.foreignVersion()).isZero();
    assertThat(d.flagged()).isTrue();
  }

  @Test
  void merge_fieldsChangedOnDifferentSides_areCombined() {
    Decision d =
        concurrentEdit(CLOUD_VALUE, LATE, EDGE_VALUE, EARLY, policy(ConflictStrategy.MERGE));
    assertResolved(d, json("{\"a\":9,\"b\":1,\"c\":2}"), "merged", CLOUD, 0);
    assertThat(d.fieldConflicts()).isEmpty();
  }

  @Test
  void merge_fieldChangedOnBothSides_goesByHlc_andIsReported() {
    JsonNode cloud = json("{\"a\":5,\"b\":1,\"c\":2}");
    JsonNode edgeV = json("{\"a\":9,\"b\":7,\"c\":1}");
    ConflictPolicy merge = policy(ConflictStrategy.MERGE);

    Decision edgeLater = concurrentEdit(cloud, EARLY, edgeV, LATE, merge);
    Decision cloudLater = concurrentEdit(cloud, LATE, edgeV, EARLY, merge);

    assertResolved(edgeLater, json("{\"a\":9,\"b\":7,\"c\":2}"), "merged", CLOUD, 0);
    assertThat(edgeLater.fieldConflicts()).containsExactly("/a");
    assertResolved(cloudLater, json("{\"a\":5,\"b\":7,\"c\":2}"), "merged", CLOUD, 0);
    assertThat(cloudLater.fieldConflicts()).containsExactly("/a");
  }

  @Test
  void merge_whoseResultIsTheEdgeValueWhole_isAttributedToTheDevice() {
    // the cloud only changed a field the edge also changed, and the edge is later
    JsonNode cloud = json("{\"a\":5,\"b\":1,\"c\":1}");
    Decision d = concurrentEdit(cloud, EARLY, EDGE_VALUE, LATE, policy(ConflictStrategy.MERGE));
    assertResolved(d, EDGE_VALUE, "merged", "gw-1", 3);
  }

  @Test
  void merge_withFlagFieldConflicts_opensAConflict_keepingCloudValuesForContestedFields() {
    ConflictPolicy flagging =
        new ConflictPolicy(ConflictStrategy.MERGE, true, true, false, null, null);
    JsonNode cloud = json("{\"a\":5,\"b\":1,\"c\":2}");
    JsonNode edgeV = json("{\"a\":9,\"b\":7,\"c\":1}");

    Decision d = concurrentEdit(cloud, EARLY, edgeV, LATE, flagging);

    assertThat(d.kind()).isEqualTo(Kind.OPEN);
    assertThat(d.value()).isEqualTo(json("{\"a\":5,\"b\":7,\"c\":2}"));
    assertThat(d.outcome()).isEqualTo("open");
    assertThat(d.writer()).isEqualTo(CLOUD);
    assertThat(d.fieldConflicts()).containsExactly("/a");
    assertThat(d.flagged()).isTrue();
    assertThat(d.note()).contains("/a");

    // without a field changed on both sides the flag changes nothing
    Decision clean = concurrentEdit(CLOUD_VALUE, EARLY, EDGE_VALUE, LATE, flagging);
    assertResolved(clean, json("{\"a\":9,\"b\":1,\"c\":2}"), "merged", CLOUD, 0);
  }

  @Test
  void merge_ofNonObjects_fallsBackToHlc_withANote() {
    JsonNode list = json("[1,2]");
    ConflictPolicy merge = policy(ConflictStrategy.MERGE);

    Decision edgeLater = concurrentEdit(CLOUD_VALUE, EARLY, list, LATE, merge);
    Decision deleteEarlier = concurrentEdit(CLOUD_VALUE, LATE, null, EARLY, merge);

    assertResolved(edgeLater, list, "edge", "gw-1", 3);
    assertThat(edgeLater.note()).isEqualTo("not both JSON objects: decided by HLC");
    assertResolved(deleteEarlier, CLOUD_VALUE, "cloud", CLOUD, 0);
    assertThat(deleteEarlier.note()).isEqualTo("not both JSON objects: decided by HLC");
  }

  @Test
  void merge_withoutABase_treatsDifferingFieldsAsChangedOnBothSides() {
    Decision d =
        decide(
            cloudAhead(CLOUD_VALUE, LATE),
            null,
            edge("gw-1", 3, EARLY, EDGE_VALUE),
            policy(ConflictStrategy.MERGE));
    // cloud is later: both contested fields keep the cloud value
    assertResolved(d, CLOUD_VALUE, "merged", CLOUD, 0);
    assertThat(d.fieldConflicts()).containsExactly("/a", "/c");
  }

  @Test
  void custom_resolverSeesBothSidesAndTheBase_andItsResultIsTheNewVersion() {
    List<ConflictResolver.Conflict> seen = new ArrayList<>();
    ConflictResolver maxOfA =
        c -> {
          seen.add(c);
          return c.edge().get("a").asInt() >= c.cloud().get("a").asInt() ? c.edge() : c.cloud();
        };
    ConflictPolicy custom =
        new ConflictPolicy(ConflictStrategy.CUSTOM, false, true, false, maxOfA, "com.example.Max");
    Current cur = cloudAhead(CLOUD_VALUE, LATE);
    Change ch = edge("gw-1", 3, EARLY, EDGE_VALUE);

    Decision d = decide(cur, BASE, ch, custom);

    assertResolved(d, EDGE_VALUE, "custom", "gw-1", 3);
    assertThat(seen).hasSize(1);
    ConflictResolver.Conflict c = seen.get(0);
    assertThat(c.scope()).isEqualTo(SCOPE);
    assertThat(c.collection()).isEqualTo(COLLECTION);
    assertThat(c.key()).isEqualTo(KEY);
    assertThat(c.deviceId()).isEqualTo("gw-1");
    assertThat(c.base()).isEqualTo(BASE);
    assertThat(c.cloud()).isEqualTo(CLOUD_VALUE);
    assertThat(c.cloudHlc()).isEqualTo(LATE);
    assertThat(c.edge()).isEqualTo(EDGE_VALUE);
    assertThat(c.edgeHlc()).isEqualTo(ch.hlc());
  }

  @Test
  void custom_resolverReturningAThirdValueOrNull_isAttributedToTheCloud() {
    JsonNode third = json("{\"a\":100}");
    Decision thirdValue =
        concurrentEdit(
            CLOUD_VALUE,
            LATE,
            EDGE_VALUE,
            EARLY,
            new ConflictPolicy(ConflictStrategy.CUSTOM, false, true, false, c -> third, "T"));
    Decision deleted =
        concurrentEdit(
            CLOUD_VALUE,
            LATE,
            EDGE_VALUE,
            EARLY,
            new ConflictPolicy(ConflictStrategy.CUSTOM, false, true, false, c -> null, "N"));

    assertResolved(thirdValue, third, "custom", CLOUD, 0);
    assertResolved(deleted, null, "custom", CLOUD, 0);
  }

  @Test
  void custom_resolverThatThrows_leavesTheConflictOpen_withTheError() {
    ConflictResolver broken =
        c -> {
          throw new IllegalStateException("boom");
        };
    ConflictPolicy custom =
        new ConflictPolicy(
            ConflictStrategy.CUSTOM, false, true, false, broken, "com.example.Broken");

    Decision d = concurrentEdit(CLOUD_VALUE, LATE, EDGE_VALUE, EARLY, custom);

    assertThat(d.kind()).isEqualTo(Kind.OPEN);
    assertThat(d.value()).isEqualTo(CLOUD_VALUE);
    assertThat(d.writer()).isEqualTo(CLOUD);
    assertThat(d.flagged()).isTrue();
    assertThat(d.note())
        .isEqualTo(
            "custom resolver com.example.Broken failed: java.lang.IllegalStateException: boom");
  }

  @Test
  void autoResolveOff_opensEveryConflict_whateverTheStrategy() {
    for (ConflictStrategy s : ConflictStrategy.values()) {
      ConflictPolicy p = new ConflictPolicy(s, false, false, false, c -> c.edge(), s.configName());
      Decision d = concurrentEdit(CLOUD_VALUE, EARLY, EDGE_VALUE, LATE, p);
      assertThat(d.kind()).as(s.name()).isEqualTo(Kind.OPEN);
      assertThat(d.value()).as(s.name()).isEqualTo(CLOUD_VALUE);
      assertThat(d.note()).as(s.name()).contains("auto_resolve is off");
      // not concurrent: still a plain fast-forward
      Decision ff =
          decide(cloudAhead(CLOUD_VALUE, EARLY), BASE, edge("gw-1", 5, LATE, EDGE_VALUE), p);
      assertThat(ff.kind()).as(s.name()).isEqualTo(Kind.FAST_FORWARD);
    }
  }

  @Test
  void flagForReview_marksAutomaticResolutions() {
    ConflictPolicy p =
        new ConflictPolicy(ConflictStrategy.EDGE_WINS, false, true, true, null, null);
    Decision d = concurrentEdit(CLOUD_VALUE, LATE, EDGE_VALUE, EARLY, p);
    assertThat(d.kind()).isEqualTo(Kind.RESOLVED);
    assertThat(d.flagged()).isTrue();
  }

  @Test
  void alreadyConflicted_staysOpen_whateverTheStrategyOrBase() {
    Current open = new Current(5, CLOUD_VALUE, EARLY, CLOUD, 0, true);
    for (ConflictStrategy s : ConflictStrategy.values()) {
      ConflictPolicy p = new ConflictPolicy(s, false, true, false, c -> c.edge(), "R");
      // even a change on the current version (otherwise a fast-forward)
      Decision d = decide(open, CLOUD_VALUE, edge("gw-1", 5, LATE, EDGE_VALUE), p);
      assertThat(d.kind()).as(s.name()).isEqualTo(Kind.OPEN);
      assertThat(d.value()).as(s.name()).isEqualTo(CLOUD_VALUE);
      assertThat(d.writer()).as(s.name()).isEqualTo(CLOUD);
      assertThat(d.note()).as(s.name()).contains("already has an open conflict");
    }
  }

  private static void assertResolved(
      Decision d, JsonNode value, String outcome, String writer, long foreignVersion) {
    assertThat(d.kind()).as("kind").isEqualTo(Kind.RESOLVED);
    assertThat(d.value()).as("value").isEqualTo(value);
    assertThat(d.outcome()).as("outcome").isEqualTo(outcome);
    assertThat(d.writer()).as("writer").isEqualTo(writer);
    assertThat(d.foreignVersion()).as("foreignVersion").isEqualTo(foreignVersion);
    assertThat(d.flagged()).as("flagged").isFalse();
  }
}

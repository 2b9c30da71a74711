package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Leases between two nodes on one store (two store instances on one database). */
@ParameterizedClass
@EnumSource(StoreKind.class)
class LeasesTest {
  @RegisterExtension final StoreFile storeFile;

  LeasesTest(StoreKind kind) {
    storeFile = new StoreFile(kind);
  }

  @Test
  void oneHolderAtATime_anotherTakesOverOnlyOnceTheLeaseRanOut_withTheNextEpoch() throws Exception {
    Leases a = storeFile.open().leases();
    Leases b = storeFile.open().leases();

    assertThat(a.acquire("export", "node-a", 1_000, 0)).isEqualTo(OptionalLong.of(1));
    assertThat(b.acquire("export", "node-b", 1_000, 999)).isEmpty();
    assertThat(a.acquire("export", "node-a", 1_000, 900)).isEqualTo(OptionalLong.of(1)); // renewed
    assertThat(b.acquire("export", "node-b", 1_000, 1_899)).isEmpty(); // a renewed until 1,900
    assertThat(b.acquire("export", "node-b", 1_000, 1_900)).isEqualTo(OptionalLong.of(2));
    assertThat(a.acquire("export", "node-a", 1_000, 1_950)).isEmpty(); // a lost it: no renewal
    assertThat(b.list()).containsExactly(new Leases.Lease("export", "node-b", 2, 2_900));
  }

  @Test
  void aReleasedLease_isTakenAtOnce_andLeasesAreIndependent() throws Exception {
    Leases a = storeFile.open().leases();
    Leases b = storeFile.open().leases();
    a.acquire("export", "node-a", 60_000, 0);
    assertThat(b.acquire("expiry", "node-b", 60_000, 0)).isPresent();

    b.release("export", "node-b"); // not its lease: changes nothing
    assertThat(b.acquire("export", "node-b", 60_000, 10)).isEmpty();
    a.release("export", "node-a");
    assertThat(b.acquire("export", "node-b", 60_000, 10)).isEqualTo(OptionalLong.of(2));
  }

  @Test
  void theRunner_startsTheWorkOnTheHolderOnly_andMovesItWhenTheHolderStops() throws Exception {
    AtomicLong now = new AtomicLong();
    List<String> events = new ArrayList<>();
    LeaseRunner a =
        new LeaseRunner(storeFile.open().leases(), "node-a", 3_000, now::get)
            .add("export", work("a", events));
    LeaseRunner b =
        new LeaseRunner(storeFile.open().leases(), "node-b", 3_000, now::get)
            .add("export", work("b", events));

    a.tick();
    b.tick();
    assertThat(events).containsExactly("a start 1");
    now.set(1_000);
    a.tick(); // renewed until 4,000
    now.set(3_500);
    b.tick();
    assertThat(b.running("export")).isFalse();

    now.set(4_000); // a died after its last renewal: b takes over once the lease ran out
    b.tick();
    assertThat(events).containsExactly("a start 1", "b start 2");
    a.tick(); // a comes back: it sees b's lease and stops
    assertThat(events).containsExactly("a start 1", "b start 2", "a stop");

    b.close(); // releases: a takes over at its next tick, long before the lease would run out
    a.tick();
    assertThat(events).containsExactly("a start 1", "b start 2", "a stop", "b stop", "a start 3");
    a.close();
  }

  @Test
  void aHolderThatCannotRenew_stopsItsWorkAfterHalfTheLease_beforeAnotherMayTakeIt()
      throws Exception {
    AtomicLong now = new AtomicLong();
    List<String> events = new ArrayList<>();
    SqliteCloudStore store = storeFile.open();
    LeaseRunner a =
        new LeaseRunner(store.leases(), "node-a", 3_000, now::get).add("export", work("a", events));
    a.tick();
    store.close(); // the store cannot be reached any more

    now.set(1_499);
    a.tick();
    assertThat(events).containsExactly("a start 1");
    now.set(1_500);
    a.tick();
    assertThat(events).containsExactly("a start 1", "a stop");
  }

  private static LeaseRunner.Work work(String node, List<String> events) {
    return new LeaseRunner.Work() {
      @Override
      public void start(long epoch) {
        events.add(node + " start " + epoch);
      }

      @Override
      public void stop() {
        events.add(node + " stop");
      }
    };
  }
}

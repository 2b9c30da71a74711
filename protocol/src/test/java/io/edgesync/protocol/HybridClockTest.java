package io.edgesync.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The hybrid logical clock: never goes backwards whatever the wall clock does, merges remote
 * timestamps, refuses (on request) remote timestamps too far ahead, and resumes after a restart.
 * The wall clock is a settable lambda (the {@code testing} module's FakeClock depends on this
 * module, so it cannot be used here).
 */
class HybridClockTest {
  private static final long MAX_DRIFT_MS = 60_000;

  private final AtomicLong wallMs = new AtomicLong(1_000_000);
  private final Clock wall = wallMs::get;

  private HybridClock clock(String node) {
    return new HybridClock(node, wall, MAX_DRIFT_MS, Hlc.ZERO);
  }

  @Test
  void now_followsTheWallClock_andCountsWithinOneMillisecond() {
    HybridClock c = clock("gw-1");

    assertThat(c.now()).isEqualTo(new Hlc(1_000_000, 0, "gw-1"));
    assertThat(c.now()).isEqualTo(new Hlc(1_000_000, 1, "gw-1"));
    assertThat(c.now()).isEqualTo(new Hlc(1_000_000, 2, "gw-1"));
    wallMs.set(1_000_005);
    assertThat(c.now()).isEqualTo(new Hlc(1_000_005, 0, "gw-1"));
    assertThat(c.last()).isEqualTo(new Hlc(1_000_005, 0, "gw-1"));
  }

  @Test
  void now_isMonotonic_whenTheWallClockStepsBack() {
    HybridClock c = clock("gw-1");
    Hlc before = c.now();
    wallMs.set(400_000); // NTP step back by 10 minutes

    Hlc a = c.now();
    Hlc b = c.now();

    assertThat(a).isGreaterThan(before);
    assertThat(b).isGreaterThan(a);
    assertThat(a.wallMs()).isEqualTo(1_000_000); // held at the highest wall time seen
    assertThat(a.logical()).isEqualTo(1);
    wallMs.set(1_000_001); // the wall clock catches up: counter restarts
    assertThat(c.now()).isEqualTo(new Hlc(1_000_001, 0, "gw-1"));
  }

  @Test
  void now_treatsANegativeWallClockAsZero() {
    wallMs.set(-50);
    HybridClock c = clock("gw-1");
    assertThat(c.now()).isEqualTo(new Hlc(0, 1, "gw-1"));
  }

  @Test
  void merge_remoteAhead_takesItsWallAndCounter() {
    HybridClock c = clock("cloud");
    c.now();
    Hlc remote = new Hlc(1_000_500, 7, "gw-1");

    c.merge(remote);

    assertThat(c.last()).isEqualTo(new Hlc(1_000_500, 7, "cloud"));
    Hlc next = c.now();
    assertThat(next).isEqualTo(new Hlc(1_000_500, 8, "cloud"));
    assertThat(next).isGreaterThan(remote);
  }

  @Test
  void merge_remoteBehind_changesNothing() {
    HybridClock c = clock("cloud");
    c.now();
    c.now(); // 1_000_000.1

    c.merge(new Hlc(999_000, 50, "gw-1"));

    assertThat(c.last()).isEqualTo(new Hlc(1_000_000, 1, "cloud"));
    assertThat(c.now()).isEqualTo(new Hlc(1_000_000, 2, "cloud"));
  }

  @Test
  void merge_equalWall_takesTheHigherCounter() {
    HybridClock c = clock("cloud");
    c.now(); // 1_000_000.0

    c.merge(new Hlc(1_000_000, 9, "gw-1"));
    assertThat(c.now()).isEqualTo(new Hlc(1_000_000, 10, "cloud"));

    c.merge(new Hlc(1_000_000, 3, "gw-2")); // lower counter: ours stays
    assertThat(c.now()).isEqualTo(new Hlc(1_000_000, 11, "cloud"));
  }

  @Test
  void merge_equalWallAndCounter_nextLocalEventSortsAfterTheRemote() {
    HybridClock c = clock("a"); // "a" sorts before "z": a tie would lose to the remote
    c.now();
    c.merge(new Hlc(1_000_000, 0, "z"));
    Hlc next = c.now();
    assertThat(next).isGreaterThan(new Hlc(1_000_000, 0, "z"));
    assertThat(next.logical()).isEqualTo(1);
  }

  @Test
  void merge_wallClockAheadOfBoth_nextEventStartsAtCounterZero() {
    HybridClock c = clock("cloud");
    c.now();
    wallMs.set(2_000_000);

    c.merge(new Hlc(1_500_000, 40, "gw-1"));

    assertThat(c.last()).isEqualTo(new Hlc(2_000_000, 0, "cloud"));
    assertThat(c.now()).isEqualTo(new Hlc(2_000_000, 0, "cloud"));
    assertThat(c.now()).isEqualTo(new Hlc(2_000_000, 1, "cloud"));
  }

  @Test
  void observe_remoteWithinDrift_mergesIt() {
    HybridClock c = clock("cloud");
    Hlc remote = new Hlc(1_000_000 + MAX_DRIFT_MS, 2, "gw-1"); // exactly the limit

    assertThat(c.observe(remote)).isTrue();

    assertThat(c.driftsSeen()).isZero();
    assertThat(c.now()).isGreaterThan(remote);
  }

  @Test
  void observe_remoteTooFarAhead_isRefusedCountedAndDoesNotMoveTheClock() {
    HybridClock c = clock("cloud");
    Hlc before = c.now();
    Hlc remote = new Hlc(1_000_000 + MAX_DRIFT_MS + 1, 0, "gw-1");

    assertThat(c.observe(remote)).isFalse();
    assertThat(c.observe(new Hlc(9_000_000_000L, 0, "gw-2"))).isFalse();

    assertThat(c.driftsSeen()).isEqualTo(2);
    assertThat(c.last()).isEqualTo(before);
    Hlc next = c.now();
    assertThat(next).isEqualTo(new Hlc(1_000_000, 1, "cloud"));
    assertThat(next).isLessThan(remote);
  }

  @Test
  void merge_acceptsARemoteTooFarAhead_whenTheCallerChoosesTo() {
    HybridClock c = clock("cloud");
    Hlc remote = new Hlc(1_000_000 + 10 * MAX_DRIFT_MS, 4, "gw-1");
    assertThat(c.observe(remote)).isFalse();

    c.merge(remote);

    assertThat(c.driftsSeen()).isEqualTo(1);
    assertThat(c.now()).isEqualTo(new Hlc(1_000_000 + 10 * MAX_DRIFT_MS, 5, "cloud"));
  }

  @Test
  void resumeFromPersistedLast_isAfterEverythingBeforeTheRestart_evenIfTheWallClockIsBehind() {
    HybridClock first = clock("cloud");
    first.now();
    first.merge(new Hlc(1_000_900, 12, "gw-1"));
    Hlc lastIssued = first.now();
    Hlc persisted = Hlc.parse(first.last().toString());
    assertThat(persisted).isEqualTo(lastIssued);

    wallMs.set(500_000); // restarted with a wall clock that stepped back
    HybridClock resumed = new HybridClock("cloud", wall, MAX_DRIFT_MS, persisted);

    assertThat(resumed.last()).isEqualTo(persisted);
    Hlc next = resumed.now();
    assertThat(next).isGreaterThan(lastIssued);
    assertThat(next).isEqualTo(new Hlc(1_000_900, 14, "cloud"));
  }

  @Test
  void constructor_refusesMissingNodeAndNonPositiveDrift() {
    assertThatThrownBy(() -> new HybridClock("", wall, 1, Hlc.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("node id");
    assertThatThrownBy(() -> new HybridClock(null, wall, 1, Hlc.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HybridClock("n", wall, 0, Hlc.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxDriftMs must be positive, was 0");
  }

  /**
   * Property: seeded random sequences of local events and merges of remote timestamps (some far
   * ahead, some behind, some equal), with a wall clock that jumps back and forth. Every timestamp
   * issued is greater than every timestamp issued or merged before it. A failure names the seed and
   * the step; the seed replays it.
   */
  @Test
  void property_everyIssuedTimestampIsAfterEverythingIssuedOrMergedBefore() {
    for (long seed = 1; seed <= 200; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      wallMs.set(1_000_000);
      HybridClock c = clock("n" + random.nextInt(3));
      Hlc highest = null; // the greatest timestamp issued or merged so far
      int issued = 0;
      for (int step = 0; step < 500; step++) {
        int action = random.nextInt(10);
        if (action < 3) {
          wallMs.addAndGet(random.nextLong(-5_000, 5_001)); // jumps back and forth
        } else if (action < 4) {
          wallMs.addAndGet(random.nextLong(0, 3));
        } else if (action < 7) {
          Hlc t = c.now();
          issued++;
          if (highest != null) {
            assertThat(t)
                .as("seed %d step %d: %s issued after %s", seed, step, t, highest)
                .isGreaterThan(highest);
          }
          assertThat(t.node()).isEqualTo(c.node());
          highest = t;
        } else {
          long base = highest == null ? wallMs.get() : highest.wallMs();
          long remoteWall =
              switch (random.nextInt(4)) {
                case 0 -> base; // same millisecond as the newest timestamp: counters decide
                case 1 -> wallMs.get();
                case 2 -> base + random.nextLong(-3, 4);
                default -> base + random.nextLong(-3_000, 3_001);
              };
          Hlc remote =
              new Hlc(Math.max(0, remoteWall), random.nextInt(0, 20), "r" + random.nextInt(4));
          boolean merged;
          if (random.nextBoolean()) {
            merged = c.observe(remote);
          } else {
            c.merge(remote);
            merged = true;
          }
          if (merged && (highest == null || remote.compareTo(highest) > 0)) {
            highest = remote;
          }
        }
        if (highest != null) {
          // persisting last() is safe: a clock resumed from it issues after everything seen
          Hlc last = c.last();
          assertThat(
                  last.wallMs() > highest.wallMs()
                      || last.wallMs() == highest.wallMs() && last.logical() >= highest.logical())
              .as("seed %d step %d: last() %s behind %s", seed, step, last, highest)
              .isTrue();
        }
      }
      assertThat(issued).as("seed %d issued timestamps", seed).isGreaterThan(50);
    }
  }
}

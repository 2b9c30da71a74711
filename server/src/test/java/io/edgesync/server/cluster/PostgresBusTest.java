package io.edgesync.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgesync.testing.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** Two nodes' buses on a real PostgreSQL. */
class PostgresBusTest {
  private String database;
  private final List<PostgresBus> buses = new ArrayList<>();

  @BeforeEach
  void database() {
    assumeTrue(
        TestPostgres.available(),
        () -> "skipped: no embedded PostgreSQL here: " + TestPostgres.unavailableReason());
    database = TestPostgres.newDatabase();
  }

  @AfterEach
  void close() {
    buses.forEach(PostgresBus::close);
    if (database != null) {
      TestPostgres.dropDatabase(database);
    }
  }

  private PostgresBus bus(String node, BlockingQueue<ClusterEvent> received) {
    PGSimpleDataSource source = new PGSimpleDataSource();
    source.setUrl(TestPostgres.jdbcUrl(database));
    source.setUser(TestPostgres.USER);
    PostgresBus bus = new PostgresBus(node, source);
    buses.add(bus);
    bus.listen(received::add);
    return bus;
  }

  @Test
  void anEventReachesTheOtherNodes_notItsOwn_evenWhenItsSubjectsFillSeveralNotifications()
      throws Exception {
    BlockingQueue<ClusterEvent> atA = new LinkedBlockingQueue<>();
    BlockingQueue<ClusterEvent> atB = new LinkedBlockingQueue<>();
    PostgresBus a = bus("node-a", atA);
    bus("node-b", atB);
    waitUntilListening(2);
    firstResync(atA);
    firstResync(atB);
    List<String> devices = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      devices.add("device-" + i);
    }

    a.publish(new ClusterEvent("node-a", ClusterEvent.Kind.COMMANDS, devices));

    List<String> got = new ArrayList<>();
    while (got.size() < devices.size()) {
      ClusterEvent e = atB.poll(5, TimeUnit.SECONDS);
      assertThat(e).as("events for %d devices so far", got.size()).isNotNull();
      assertThat(e.kind()).isEqualTo(ClusterEvent.Kind.COMMANDS);
      assertThat(e.node()).isEqualTo("node-a");
      got.addAll(e.subjects());
    }
    assertThat(got).isEqualTo(devices);
    assertThat(atA.poll(300, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void aNodeWhoseListeningConnectionWasLost_resyncs_andHearsLaterEvents() throws Exception {
    BlockingQueue<ClusterEvent> atB = new LinkedBlockingQueue<>();
    PostgresBus a = bus("node-a", new LinkedBlockingQueue<>());
    bus("node-b", atB);
    waitUntilListening(2);
    firstResync(atB);

    try (Connection c = TestPostgres.connect(database);
        Statement st = c.createStatement()) {
      st.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
              + " AND pid <> pg_backend_pid()");
    }

    ClusterEvent resync = atB.poll(10, TimeUnit.SECONDS);
    assertThat(resync).isNotNull();
    assertThat(resync.kind()).isEqualTo(ClusterEvent.Kind.RESYNC);
    waitUntilListening(2);
    a.publish(new ClusterEvent("node-a", ClusterEvent.Kind.DOCS, List.of("fleet")));
    ClusterEvent docs = atB.poll(5, TimeUnit.SECONDS);
    assertThat(docs)
        .isEqualTo(new ClusterEvent("node-a", ClusterEvent.Kind.DOCS, List.of("fleet")));
  }

  @Test
  void aNodeWhosePublishingConnectionWasLost_publishesTheNextEventOnAFreshOne() throws Exception {
    BlockingQueue<ClusterEvent> atB = new LinkedBlockingQueue<>();
    PostgresBus a = bus("node-a", new LinkedBlockingQueue<>());
    bus("node-b", atB);
    waitUntilListening(2);
    firstResync(atB);
    a.publish(new ClusterEvent("node-a", ClusterEvent.Kind.DOCS, List.of("fleet")));
    assertThat(atB.poll(5, TimeUnit.SECONDS)).isNotNull();

    terminateAndWait("query LIKE '%pg_notify%'"); // a's publishing connection, as a restart would

    ClusterEvent e = new ClusterEvent("node-a", ClusterEvent.Kind.COMMANDS, List.of("gw-1"));
    a.publish(e);
    assertThat(atB.poll(5, TimeUnit.SECONDS)).isEqualTo(e);
  }

  @Test
  void aNodeResyncsOnceItListens_forTheSessionsItAcceptedBeforeThat() throws Exception {
    // A node accepts device sessions before its listening thread runs LISTEN; whatever other
    // nodes committed in between reaches those sessions only through this resync.
    BlockingQueue<ClusterEvent> atB = new LinkedBlockingQueue<>();
    bus("node-b", atB);
    waitUntilListening(1);
    firstResync(atB);
    assertThat(atB.poll(300, TimeUnit.MILLISECONDS)).isNull(); // once, not again
  }

  /** The first event a node's listener gets is the resync after its first LISTEN. */
  private static void firstResync(BlockingQueue<ClusterEvent> events) throws Exception {
    ClusterEvent first = events.poll(5, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    assertThat(first.kind()).isEqualTo(ClusterEvent.Kind.RESYNC);
  }

  /** Ends this database's backends that match {@code filter} and waits until they are gone. */
  private void terminateAndWait(String filter) throws Exception {
    String mine = " AND datname = current_database() AND pid <> pg_backend_pid()";
    try (Connection c = TestPostgres.connect(database);
        Statement st = c.createStatement()) {
      try (var rs =
          st.executeQuery(
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                  + filter
                  + mine)) {
        rs.next();
        assertThat(rs.getInt(1)).as("backends ended").isPositive();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        try (var rs =
            st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE " + filter + mine)) {
          rs.next();
          if (rs.getInt(1) == 0) {
            return;
          }
        }
        assertThat(System.nanoTime()).as("backends still there").isLessThan(deadline);
        Thread.sleep(10);
      }
    }
  }

  @Test
  void theTextForm_roundTrips_andTextsOfOtherProgramsAreIgnored() {
    ClusterEvent e = new ClusterEvent("n1", ClusterEvent.Kind.DOCS, List.of("fleet", "group:a"));
    assertThat(e.encode(100)).hasSize(1);
    assertThat(ClusterEvent.decode(e.encode(100).get(0))).isEqualTo(e);
    assertThat(ClusterEvent.decode("hello")).isNull();
    assertThat(ClusterEvent.decode("n1\tNOPE\tx")).isNull();
    ClusterEvent empty = new ClusterEvent("n1", ClusterEvent.Kind.RESYNC, List.of());
    assertThat(ClusterEvent.decode(empty.encode(100).get(0))).isEqualTo(empty);
  }

  /** Until {@code n} connections are listening (LISTEN ran). */
  private void waitUntilListening(int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Connection c = TestPostgres.connect(database);
          Statement st = c.createStatement();
          var rs =
              st.executeQuery(
                  "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
                      + " AND datname = current_database()")) {
        rs.next();
        if (rs.getInt(1) >= n) {
          return;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError(n + " listeners did not start");
  }
}

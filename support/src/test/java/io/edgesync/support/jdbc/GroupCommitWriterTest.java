package io.edgesync.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group-commit writer over a real SQLite file, with {@link SavepointGroup} as its handler. A
 * "gate" transaction holds the writer in its first group while the test queues the units of the
 * next one, so the groups are known.
 */
class GroupCommitWriterTest {
  private static final long WAIT_MS = 10_000;

  @TempDir Path dir;
  private String file;
  private Connection db;
  private Jdbc jdbc;
  private final Object lock = new Object();
  private int commits;
  private int rollbacks;
  private GroupCommitWriter<SavepointGroup.Tx<Jdbc, ?>> writer;
  private int maxQueuedUnits = 16;

  private final CountDownLatch gateRunning = new CountDownLatch(1);
  private final CountDownLatch gateOpen = new CountDownLatch(1);

  @BeforeEach
  void open() throws SQLException {
    file = dir.resolve("store.db").toString();
    db =
        TestDatabase.open(
            file,
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "CREATE TABLE parent(id INTEGER PRIMARY KEY)",
            "CREATE TABLE item(name TEXT PRIMARY KEY)",
            // Checked at COMMIT only: a way to make the commit itself fail.
            "CREATE TABLE child(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id)"
                + " DEFERRABLE INITIALLY DEFERRED)");
    jdbc = new Jdbc(db, file);
  }

  @AfterEach
  void close() throws SQLException {
    gateOpen.countDown();
    if (writer != null) {
      writer.stop();
    }
    db.close();
  }

  private void startWriter() {
    SavepointGroup<Jdbc> handler =
        new SavepointGroup<>(jdbc, lock, "test transaction", new CountingStore());
    writer =
        new GroupCommitWriter<>(
            "test-writer",
            maxQueuedUnits,
            128,
            () -> new IllegalStateException("test store is closed"),
            handler);
  }

  /** Counts commits and rollbacks; runs the work as it is. */
  private final class CountingStore implements SavepointGroup.Store<Jdbc> {
    @Override
    public void begin() {}

    @Override
    public <T> T run(Function<Jdbc, T> work) {
      return work.apply(jdbc);
    }

    @Override
    public void beforeCommit() {}

    @Override
    public void committed() {
      commits++;
    }

    @Override
    public void rolledBack() {
      rollbacks++;
    }

    @Override
    public void end() {}
  }

  private <T> CompletableFuture<T> submit(Function<Jdbc, T> work) {
    CompletableFuture<T> done = new CompletableFuture<>();
    writer.submit(new SavepointGroup.Tx<>(work, done));
    return done;
  }

  private CompletableFuture<Integer> execute(String sql, Object... args) {
    return submit(j -> j.call("executing " + sql, () -> j.update(sql, args)));
  }

  private CompletableFuture<Integer> insert(String name) {
    return execute("INSERT INTO item VALUES (?)", name);
  }

  /**
   * Starts the writer and holds it in its first group until {@link #gateOpen}; ignores the
   * interrupt of stop().
   */
  private CompletableFuture<Integer> gate() throws InterruptedException {
    startWriter();
    CompletableFuture<Integer> f =
        submit(
            j -> {
              gateRunning.countDown();
              boolean interrupted = false;
              while (true) {
                try {
                  gateOpen.await();
                  break;
                } catch (InterruptedException e) {
                  interrupted = true;
                }
              }
              if (interrupted) {
                Thread.currentThread().interrupt();
              }
              return j.call("inserting", () -> j.update("INSERT INTO item VALUES ('gate')"));
            });
    assertThat(gateRunning.await(WAIT_MS, TimeUnit.MILLISECONDS)).isTrue();
    return f;
  }

  @Test
  void aFailingUnit_rollsBackAlone_andTheOthersCommitOnceTogether() throws Exception {
    CompletableFuture<Integer> gate = gate();
    CompletableFuture<Integer> a = insert("a");
    CompletableFuture<Integer> failing =
        submit(
            j -> {
              j.call("inserting", () -> j.update("INSERT INTO item VALUES ('never')"));
              throw new IllegalArgumentException("refused by the unit");
            });
    CompletableFuture<Integer> duplicate = insert("a");
    CompletableFuture<Integer> b = insert("b");
    gateOpen.countDown();

    assertThat(b.get(WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(1);
    assertThat(gate.get()).isEqualTo(1);
    assertThat(a.get()).isEqualTo(1);
    assertThat(cause(failing)).isInstanceOf(IllegalArgumentException.class);
    assertThat(cause(duplicate))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("UNIQUE constraint failed");
    assertThat(committedNames()).containsExactly("a", "b", "gate");
    synchronized (lock) {
      assertThat(commits).as("the gate's group, then one for the four units").isEqualTo(2);
      assertThat(rollbacks).isZero();
    }
  }

  @Test
  void aFailingCommit_failsEveryUnitOfTheGroup_andKeepsNoneOfThem() throws Exception {
    CompletableFuture<Integer> gate = gate();
    CompletableFuture<Integer> a = insert("a");
    CompletableFuture<Integer> orphan = execute("INSERT INTO child(id, parent) VALUES (1, 99)");
    CompletableFuture<Integer> b = insert("b");
    gateOpen.countDown();

    assertThat(gate.get(WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(1);
    for (CompletableFuture<Integer> f : List.of(a, orphan, b)) {
      assertThat(cause(f))
          .isInstanceOf(StoreException.class)
          .hasMessageStartingWith("test transaction failed in " + file + ": ")
          .hasMessageContaining("FOREIGN KEY");
    }
    assertThat(cause(a)).isSameAs(cause(b));
    assertThat(committedNames()).containsExactly("gate");
    synchronized (lock) {
      assertThat(rollbacks).isEqualTo(1);
    }
    // The writer goes on after a failed group.
    assertThat(insert("c").get(WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(1);
    assertThat(committedNames()).containsExactly("c", "gate");
  }

  @Test
  void aFullQueue_makesTheNextSubmitWait_untilTheWriterTakesAGroup() throws Exception {
    maxQueuedUnits = 2;
    CompletableFuture<Integer> gate = gate();
    insert("a");
    insert("b");
    CompletableFuture<CompletableFuture<Integer>> third =
        CompletableFuture.supplyAsync(() -> insert("c"));

    Thread.sleep(300);
    assertThat(third).as("the third submit waits for room").isNotDone();
    gateOpen.countDown();

    assertThat(third.get(WAIT_MS, TimeUnit.MILLISECONDS).get(WAIT_MS, TimeUnit.MILLISECONDS))
        .isEqualTo(1);
    assertThat(gate.get()).isEqualTo(1);
    assertThat(committedNames()).containsExactly("a", "b", "c", "gate");
  }

  @Test
  void close_finishesTheRunningGroup_refusesTheQueuedUnits_andLaterSubmits() throws Exception {
    CompletableFuture<Integer> gate = gate();
    CompletableFuture<Integer> queued = insert("queued");
    CompletableFuture<Void> closing =
        CompletableFuture.runAsync(
            () -> {
              writer.stop();
              writer.refuseQueued(new IllegalStateException("test store closed"));
            });
    Thread.sleep(100);
    gateOpen.countDown();
    closing.get(WAIT_MS, TimeUnit.MILLISECONDS);

    assertThat(gate.get()).isEqualTo(1);
    assertThat(cause(queued)).hasMessage("test store closed");
    assertThat(cause(insert("late"))).hasMessage("test store is closed");
    assertThat(committedNames()).containsExactly("gate");
  }

  @Test
  void aGroupTakesUnitsUntilTheirWeightReachesTheBound() throws Exception {
    List<List<String>> groups = new ArrayList<>();
    CountDownLatch first = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch three = new CountDownLatch(3);
    GroupCommitWriter<Weighed> w =
        new GroupCommitWriter<>(
            "weighing-writer",
            16,
            3,
            () -> new IllegalStateException("closed"),
            group -> {
              groups.add(group.stream().map(Weighed::name).toList());
              first.countDown();
              awaitQuietly(release);
              three.countDown();
            });
    try {
      w.submit(new Weighed("held", 1));
      assertThat(first.await(WAIT_MS, TimeUnit.MILLISECONDS)).isTrue();
      w.submit(new Weighed("a", 2));
      w.submit(new Weighed("b", 2));
      w.submit(new Weighed("c", 2));
      release.countDown();

      assertThat(three.await(WAIT_MS, TimeUnit.MILLISECONDS)).isTrue();
      assertThat(groups).containsExactly(List.of("held"), List.of("a", "b"), List.of("c"));
    } finally {
      w.stop();
    }
  }

  private record Weighed(String name, int weight) implements GroupCommitWriter.Unit {
    @Override
    public void fail(Throwable e) {}
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(WAIT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Throwable cause(CompletableFuture<?> f) throws Exception {
    try {
      f.get(WAIT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("completed without a failure: " + f.get());
  }

  private List<String> committedNames() throws SQLException {
    return TestDatabase.committed(file, "SELECT name FROM item ORDER BY name");
  }
}

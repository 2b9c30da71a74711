package io.edgesync.support.jdbc;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A {@link GroupCommitWriter.Handler} for independent transactions: the group runs in one database
 * transaction, each transaction inside its own savepoint, and commits once.
 *
 * <ul>
 *   <li>A transaction whose work throws rolls back to its savepoint alone; its future fails with
 *       what it threw, the others go on.
 *   <li>A failure of the group itself (a savepoint statement, {@link Store#beforeCommit}, the
 *       commit) rolls everything back and fails every future of the group with one exception: a
 *       {@link StoreException} for an {@link SQLException}, else an {@link IllegalStateException}.
 *   <li>Futures complete in queue order after the commit, outside the lock.
 * </ul>
 *
 * <p>Savepoints are standard SQL ({@code SAVEPOINT}, {@code ROLLBACK TO SAVEPOINT}, {@code RELEASE
 * SAVEPOINT}): SQLite and PostgreSQL alike. The connection must not be in auto-commit mode.
 *
 * <p>Threads: runs on the writer thread, holding {@code lock} for the whole group (the store's
 * readers take the same lock, so they never see a group half done).
 *
 * @param <S> what a transaction's work is given (the store's transaction handle)
 */
public final class SavepointGroup<S> implements GroupCommitWriter.Handler<SavepointGroup.Tx<S, ?>> {

  /** One caller's transaction: its work and its future. */
  public static final class Tx<S, T> implements GroupCommitWriter.Unit {
    private final Function<S, T> work;
    private final CompletableFuture<T> done;

    public Tx(Function<S, T> work, CompletableFuture<T> done) {
      this.work = work;
      this.done = done;
    }

    @Override
    public int weight() {
      return 1;
    }

    @Override
    public void fail(Throwable e) {
      done.completeExceptionally(e);
    }

    @SuppressWarnings("unchecked")
    private void complete(Object result) {
      done.complete((T) result);
    }
  }

  /** The store's side of a group; every method runs under the lock on the writer thread. */
  public interface Store<S> {
    /**
     * A group starts: remember what {@link #rolledBack} restores. It may run statements in the
     * group's transaction (take a lock); if it fails, the group is rolled back and fails.
     */
    void begin() throws SQLException;

    /**
     * Runs one transaction's work. If it throws, its statements are rolled back to its savepoint
     * and the store must undo its in-memory effects before rethrowing (or in {@code finally}).
     */
    <T> T run(Function<S, T> work);

    /** After the last transaction, before the commit: write what the group kept in memory. */
    void beforeCommit() throws SQLException;

    /** The group is durable. */
    void committed();

    /** The group was rolled back: restore what {@link #begin} remembered. */
    void rolledBack();

    /** After the group, committed or not: clear per-group state. */
    void end();
  }

  private final Jdbc jdbc;
  private final Object lock;
  private final String operation;
  private final Store<S> store;

  /**
   * @param lock the monitor held for a whole group (shared with the store's readers)
   * @param operation names the work in a group failure, e.g. {@code document transaction}
   */
  public SavepointGroup(Jdbc jdbc, Object lock, String operation, Store<S> store) {
    this.jdbc = jdbc;
    this.lock = lock;
    this.operation = operation;
    this.store = store;
  }

  @Override
  public void runGroup(List<Tx<S, ?>> group) {
    Object[] results = new Object[group.size()];
    Throwable[] errors = new Throwable[group.size()];
    synchronized (lock) {
      try {
        // One unit of work: a lost connection is replaced before the group, never within it.
        jdbc.unit(
            () -> {
              runInOneTransaction(group, results, errors);
              return null;
            });
      } catch (SQLException e) { // no fresh connection for a lost one: the group never began
        Arrays.fill(errors, groupFailure(e));
      }
    }
    for (int i = 0; i < group.size(); i++) {
      if (errors[i] != null) {
        group.get(i).fail(errors[i]);
      } else {
        group.get(i).complete(results[i]);
      }
    }
  }

  /** The group in one transaction; every failure ends up in {@code errors}, none is thrown. */
  private void runInOneTransaction(List<Tx<S, ?>> group, Object[] results, Throwable[] errors) {
    try (Statement st = jdbc.connection().createStatement()) {
      store.begin();
      for (int i = 0; i < group.size(); i++) {
        st.execute("SAVEPOINT unit");
        try {
          results[i] = store.run(group.get(i).work);
          st.execute("RELEASE SAVEPOINT unit");
        } catch (RuntimeException | Error e) {
          st.execute("ROLLBACK TO SAVEPOINT unit");
          st.execute("RELEASE SAVEPOINT unit");
          errors[i] = e;
        }
      }
      store.beforeCommit();
      jdbc.connection().commit();
      store.committed();
    } catch (SQLException | RuntimeException | Error e) {
      jdbc.rollbackQuietly();
      store.rolledBack();
      Arrays.fill(errors, groupFailure(e));
    } finally {
      store.end();
    }
  }

  private RuntimeException groupFailure(Throwable e) {
    return e instanceof SQLException sql
        ? jdbc.failure(operation, sql)
        : new IllegalStateException(operation + " failed: " + e, e);
  }
}

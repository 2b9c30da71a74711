package io.edgesync.server.files;

import java.util.Map;
import java.util.function.Supplier;

/**
 * The cloud store's transactions that carry audit records: the SQL a piece of work runs and the
 * records it appends commit together or not at all (the store's {@code AuditLog}). The store
 * implements it; the file tables use it for what must be audited (a publish, a rollout's changes).
 */
public interface AuditedTransactions {
  /** Runs {@code work} in one transaction on the store's writer thread and returns its result. */
  <T> T inTransaction(Supplier<T> work);

  /** Inside the work of {@link #inTransaction}: appends an audit record. */
  void append(String actor, String action, String target, Map<String, ?> details);
}

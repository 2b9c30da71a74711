package io.edgesync.server;

import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.ForwardingDocumentStore;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's document store with one read shared: a change of a fleet or group document is pushed
 * to every session reading the scope, and each session asks the store for the versions after its
 * cursor, which at a fan-out is the same cursor for nearly all of them. Here the first session's
 * answer serves the others, so a fan-out to 10,000 sessions reads the store once instead of 10,000
 * times (on PostgreSQL each read is a round trip; on SQLite each takes the store's lock). A
 * device's own scope is read by its session alone; there only "nothing new" is kept, which spares
 * the read of that scope when a shared scope's change is pushed to the session.
 *
 * <p>An answer is valid until its scope changes. The server calls {@link #changed} with the scopes
 * of every commit, this node's or another node's, <em>before</em> it tells the sessions, and {@link
 * #changedAll} when it may have missed another node's commits. An answer is kept with the tick at
 * which its read began; a change takes a later tick, so an answer read before it is never served
 * after it. A session served an answer read before a commit that it has not been told of yet is
 * told next, and reads again.
 *
 * <p>Bounds: one answer per scope, of at most {@link #MAX_SHARED_BYTES} document bytes, and at most
 * {@link #MAX_SCOPES} scopes (all forgotten when full). Thread safe.
 */
final class SharedScopeReads extends ForwardingDocumentStore {
  static final int MAX_SHARED_BYTES = 4 << 20;
  static final int MAX_SCOPES = 200_000;

  private final AtomicLong tick = new AtomicLong();
  private final Map<String, Long> changedAt = new ConcurrentHashMap<>();
  private volatile long allChangedAt;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final AtomicLong reads = new AtomicLong();
  private final AtomicLong shared = new AtomicLong();

  private record Answer(long readAt, long afterVersion, int limit, List<StoredDoc> docs) {}

  SharedScopeReads(DocumentStore store) {
    super(store);
  }

  /** Versions in these scopes were committed: answers read before now are stale. */
  void changed(Collection<String> scopes) {
    long t = tick.incrementAndGet();
    for (String scope : scopes) {
      changedAt.put(scope, t);
      answers.remove(scope);
    }
  }

  /** Any scope may have changed (this node may have missed other nodes' commits). */
  void changedAll() {
    allChangedAt = tick.incrementAndGet();
    answers.clear();
  }

  /** Reads of changes after a cursor that reached the store. */
  long reads() {
    return reads.get();
  }

  /** Reads of changes after a cursor answered by another session's read. */
  long sharedReads() {
    return shared.get();
  }

  @Override
  public List<StoredDoc> changesAfter(String scope, long afterVersion, int limit) {
    long start = tick.get();
    Answer a = answers.get(scope);
    if (a != null
        && a.afterVersion() == afterVersion
        && a.limit() == limit
        && a.readAt() >= Math.max(allChangedAt, changedAt.getOrDefault(scope, 0L))) {
      shared.incrementAndGet();
      return a.docs();
    }
    List<StoredDoc> docs = List.copyOf(delegate.changesAfter(scope, afterVersion, limit));
    reads.incrementAndGet();
    if (keep(scope, docs)) {
      if (answers.size() >= MAX_SCOPES) {
        answers.clear();
      }
      answers.put(scope, new Answer(start, afterVersion, limit, docs));
    }
    return docs;
  }

  private static boolean keep(String scope, List<StoredDoc> docs) {
    if (docs.isEmpty()) {
      return true;
    }
    if (!scope.equals(CloudDocuments.FLEET) && !scope.startsWith("group:")) {
      return false;
    }
    long bytes = 0;
    for (StoredDoc d : docs) {
      bytes += d.value() == null ? 0 : d.value().length;
    }
    return bytes <= MAX_SHARED_BYTES;
  }
}

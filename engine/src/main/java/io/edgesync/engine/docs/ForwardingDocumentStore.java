package io.edgesync.engine.docs;

import io.edgesync.protocol.Hlc;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@link DocumentStore} that passes every call on, each transaction's through a forwarding {@link
 * Tx}: the base of a decorator that changes one call (the server's {@code SharedScopeReads}), or of
 * a test's store that overrides a method (or a transaction's {@link #doc} or {@link #audit}) to
 * plant a fault or a bug. Thread safe if the delegate is.
 */
public class ForwardingDocumentStore implements DocumentStore {
  protected final DocumentStore delegate;

  public ForwardingDocumentStore(DocumentStore delegate) {
    this.delegate = delegate;
  }

  /** A transaction's read of a key's current version. */
  protected StoredDoc doc(Tx tx, String scope, String collection, String key) {
    return tx.doc(scope, collection, key);
  }

  /** A transaction's audit record. */
  protected void audit(Tx tx, AuditRecord record) {
    tx.audit(record);
  }

  @Override
  public <T> java.util.concurrent.CompletableFuture<T> inTransactionAsync(Function<Tx, T> work) {
    return delegate.inTransactionAsync(tx -> work.apply(new ForwardingTx(tx)));
  }

  private final class ForwardingTx implements Tx {
    private final Tx tx;

    ForwardingTx(Tx tx) {
      this.tx = tx;
    }

    @Override
    public long lastChangeSeq(String deviceId) {
      return tx.lastChangeSeq(deviceId);
    }

    @Override
    public void setLastChangeSeq(String deviceId, long changeSeq) {
      tx.setLastChangeSeq(deviceId, changeSeq);
    }

    @Override
    public void requestResend(
        String deviceId, long changeSeq, String scope, String collection, String key) {
      tx.requestResend(deviceId, changeSeq, scope, collection, key);
    }

    @Override
    public void resendMet(
        String deviceId, long changeSeq, String scope, String collection, String key) {
      tx.resendMet(deviceId, changeSeq, scope, collection, key);
    }

    @Override
    public java.util.List<Long> resendRequests(String deviceId) {
      return tx.resendRequests(deviceId);
    }

    @Override
    public StoredDoc doc(String scope, String collection, String key) {
      return ForwardingDocumentStore.this.doc(tx, scope, collection, key);
    }

    @Override
    public StoredDoc collectedDelete(String scope, String collection, String key) {
      return tx.collectedDelete(scope, collection, key);
    }

    @Override
    public StoredDoc version(String scope, String collection, String key, long version) {
      return tx.version(scope, collection, key, version);
    }

    @Override
    public StoredDoc write(DocWrite write) {
      return tx.write(write);
    }

    @Override
    public long openConflict(ConflictRecord conflict) {
      return tx.openConflict(conflict);
    }

    @Override
    public void updateConflictEdge(
        long conflictId, String deviceId, long changeSeq, byte[] edgeValue, Hlc edgeHlc) {
      tx.updateConflictEdge(conflictId, deviceId, changeSeq, edgeValue, edgeHlc);
    }

    @Override
    public ConflictRecord conflict(long conflictId) {
      return tx.conflict(conflictId);
    }

    @Override
    public long openConflictOn(String scope, String collection, String key) {
      return tx.openConflictOn(scope, collection, key);
    }

    @Override
    public long openConflictOf(String scope, String collection, String key, String deviceId) {
      return tx.openConflictOf(scope, collection, key, deviceId);
    }

    @Override
    public void closeConflict(
        long conflictId,
        String outcome,
        String resolvedBy,
        long resultVersion,
        byte[] resultValue,
        long nowMs) {
      tx.closeConflict(conflictId, outcome, resolvedBy, resultVersion, resultValue, nowMs);
    }

    @Override
    public void audit(AuditRecord record) {
      ForwardingDocumentStore.this.audit(tx, record);
    }

    @Override
    public Hlc lastHlc() {
      return tx.lastHlc();
    }

    @Override
    public void saveHlc(Hlc hlc) {
      tx.saveHlc(hlc);
    }
  }

  @Override
  public StoredDoc get(String scope, String collection, String key) {
    return delegate.get(scope, collection, key);
  }

  @Override
  public List<StoredDoc> list(String scope, String collection, String afterKey, int limit) {
    return delegate.list(scope, collection, afterKey, limit);
  }

  @Override
  public List<StoredDoc> changesAfter(String scope, long afterVersion, int limit) {
    return delegate.changesAfter(scope, afterVersion, limit);
  }

  @Override
  public long conflictIdBefore(long createdMs) {
    return delegate.conflictIdBefore(createdMs);
  }

  @Override
  public List<ConflictRecord> conflicts(ConflictFilter filter) {
    return delegate.conflicts(filter);
  }

  @Override
  public ConflictRecord conflict(long conflictId) {
    return delegate.conflict(conflictId);
  }

  @Override
  public List<AuditRecord> audit(AuditFilter filter) {
    return delegate.audit(filter);
  }

  @Override
  public List<String> groups(String deviceId) {
    return delegate.groups(deviceId);
  }

  @Override
  public void setGroups(String deviceId, List<String> groups) {
    delegate.setGroups(deviceId, groups);
  }

  @Override
  public List<String> devicesReading(String scope) {
    return delegate.devicesReading(scope);
  }

  @Override
  public void saveCursors(String deviceId, Map<String, Long> cursors) {
    delegate.saveCursors(deviceId, cursors);
  }
}

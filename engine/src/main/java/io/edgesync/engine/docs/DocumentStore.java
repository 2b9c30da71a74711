package io.edgesync.engine.docs;

import io.edgesync.protocol.Hlc;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Where the cloud keeps documents, their recent history (bases for three-way merges), conflicts,
 * the audit log, device groups and what each device has seen. Implementations are thread safe;
 * {@link #inTransaction} runs its work atomically and durably (all or nothing, on disk when it
 * returns). The decisions are made by {@link CloudDocuments}; this interface only stores.
 *
 * <p>Values are handed out as stored, without copying (an implementation may cache them): callers
 * must not modify the byte arrays of a {@link StoredDoc}.
 *
 * <p>Versions come from one counter for the whole store, so a version orders every write and a
 * per-scope cursor "everything after version V" is exact.
 */
public interface DocumentStore {

  /** Runs {@code work} in a transaction; completes after the commit (durable). */
  <T> java.util.concurrent.CompletableFuture<T> inTransactionAsync(Function<Tx, T> work);

  /** {@link #inTransactionAsync} and wait; the work's own exception is rethrown as it was. */
  default <T> T inTransaction(Function<Tx, T> work) {
    try {
      return inTransactionAsync(work).join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /** One transaction's view; valid only inside {@link #inTransaction}. */
  interface Tx {
    /** The highest edge change sequence of the device that was processed (0: none). */
    long lastChangeSeq(String deviceId);

    void setLastChangeSeq(String deviceId, long changeSeq);

    /**
     * Remembers that the device must send change {@code changeSeq} (a merge patch on a base the
     * store no longer holds) again whole: the request outlives a lost DocAck and is repeated in
     * every Welcome until the device sends a later change of the key.
     */
    void requestResend(
        String deviceId, long changeSeq, String scope, String collection, String key);

    /** The device sent change {@code changeSeq} of the key: earlier resend requests are met. */
    void resendMet(String deviceId, long changeSeq, String scope, String collection, String key);

    /** The device's resend requests not yet met, in change order. */
    List<Long> resendRequests(String deviceId);

    /** The current version of a key, tombstones included; null if none. */
    StoredDoc doc(String scope, String collection, String key);

    /**
     * For a key without a current version ({@link #doc} is null): the newest delete of it whose
     * tombstone was collected, as that tombstone (version, HLC, writer); null if none was, or if
     * the store does not remember collected deletes.
     */
    default StoredDoc collectedDelete(String scope, String collection, String key) {
      return null;
    }

    /** The value of an earlier version if it is still kept in the history; null if not. */
    StoredDoc version(String scope, String collection, String key, long version);

    /** Writes the next version of a key (and keeps it in the history); returns it. */
    StoredDoc write(DocWrite write);

    long openConflict(ConflictRecord conflict);

    /** The edge side of an open conflict changed (the device edited the key again). */
    void updateConflictEdge(
        long conflictId, String deviceId, long changeSeq, byte[] edgeValue, Hlc edgeHlc);

    ConflictRecord conflict(long conflictId);

    /** The newest open conflict on a key, 0 if none. */
    long openConflictOn(String scope, String collection, String key);

    /** The open conflict holding the device's value of a key, 0 if none. */
    long openConflictOf(String scope, String collection, String key, String deviceId);

    void closeConflict(
        long conflictId,
        String outcome,
        String resolvedBy,
        long resultVersion,
        byte[] resultValue,
        long nowMs);

    void audit(AuditRecord record);

    /** The last HLC the cloud issued (persisted with each transaction that stamps one). */
    Hlc lastHlc();

    void saveHlc(Hlc hlc);
  }

  StoredDoc get(String scope, String collection, String key);

  /**
   * Keys of a collection in key order after {@code afterKey} ("" = from the start); tombstones
   * excluded.
   */
  List<StoredDoc> list(String scope, String collection, String afterKey, int limit);

  /**
   * Every version of the scope after {@code afterVersion}, in version order (tombstones included).
   */
  List<StoredDoc> changesAfter(String scope, long afterVersion, int limit);

  List<ConflictRecord> conflicts(ConflictFilter filter);

  /**
   * The id just before the first conflict created at or after {@code createdMs} (ids grow with
   * time): where a report of a period starts reading. 0 (read from the start) by default.
   */
  default long conflictIdBefore(long createdMs) {
    return 0;
  }

  ConflictRecord conflict(long conflictId);

  List<AuditRecord> audit(AuditFilter filter);

  List<String> groups(String deviceId);

  void setGroups(String deviceId, List<String> groups);

  /** Devices (registered) that read the scope: all for "fleet", members for "group:x". */
  List<String> devicesReading(String scope);

  /**
   * Records what the device has applied, per scope (from its Hello), and collects tombstones every
   * reader has seen.
   */
  void saveCursors(String deviceId, Map<String, Long> cursors);

  /**
   * One document version.
   *
   * @param value UTF-8 JSON; null when deleted (a tombstone)
   * @param writer the device that wrote it or {@link ConflictDecider#CLOUD}
   * @param conflictId the open conflict on this key, 0 if none
   * @param originDevice the device whose change produced this version ("" if a cloud write)
   */
  record StoredDoc(
      String scope,
      String collection,
      String key,
      long version,
      byte[] value,
      Hlc hlc,
      String writer,
      long foreignVersion,
      long conflictId,
      String originDevice,
      long originChangeSeq,
      long updatedMs) {
    public boolean deleted() {
      return value == null;
    }
  }

  record DocWrite(
      String scope,
      String collection,
      String key,
      byte[] value,
      Hlc hlc,
      String writer,
      long foreignVersion,
      long conflictId,
      String originDevice,
      long originChangeSeq,
      long nowMs) {}

  /** A conflict; byte values are UTF-8 JSON, null = deleted/absent/unknown. */
  record ConflictRecord(
      long id,
      String scope,
      String collection,
      String key,
      String deviceId,
      String strategy,
      String status,
      boolean flagged,
      long baseVersion,
      byte[] baseValue,
      long cloudVersion,
      byte[] cloudValue,
      Hlc cloudHlc,
      long edgeChangeSeq,
      byte[] edgeValue,
      Hlc edgeHlc,
      String fieldConflicts,
      String note,
      String outcome,
      String resolvedBy,
      long resultVersion,
      byte[] resultValue,
      long createdMs,
      long resolvedMs) {
    public static final String OPEN = "open";
    public static final String RESOLVED = "resolved";
  }

  record AuditRecord(
      long id,
      long atMs,
      long conflictId,
      String scope,
      String collection,
      String key,
      String deviceId,
      String strategy,
      String outcome,
      String resolvedBy,
      long baseVersion,
      byte[] baseValue,
      long cloudVersion,
      byte[] cloudValue,
      Hlc cloudHlc,
      byte[] edgeValue,
      Hlc edgeHlc,
      long resultVersion,
      byte[] resultValue,
      String note) {}

  /** Null fields do not filter. */
  record ConflictFilter(
      String status, String deviceId, String collection, long afterId, int limit) {}

  record AuditFilter(String deviceId, String collection, String key, long afterId, int limit) {}
}

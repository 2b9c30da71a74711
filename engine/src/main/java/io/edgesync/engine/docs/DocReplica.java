package io.edgesync.engine.docs;

import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.DocUpdate;
import java.util.List;
import java.util.Map;

/**
 * The edge's local replica of its documents, as the sync engine sees it. Local writes mark a key
 * pending with a fresh change sequence (a newer edit of the same key replaces an unsent older one);
 * the engine sends pending changes, and applies the cloud's versions.
 *
 * <p>Rules for a cloud version of a key (see {@link #apply}): it replaces the local value when the
 * key has no pending change, or when the pending change is already processed by the cloud (its
 * outcome is this version or an earlier one), or when it is the outcome of the pending change
 * itself; otherwise the local edit stays and waits for its own outcome.
 *
 * <p>Implementations are thread safe (the engine calls from its thread, applications from theirs)
 * and durable when a method returns.
 */
public interface DocReplica {
  /**
   * Per scope (wire naming: device, fleet, group:x), the highest version applied, but not above the
   * base version of a change still pending in that scope: the cloud collects tombstones up to the
   * cursors devices report, and one the pending change has not been decided against must stay.
   */
  Map<String, Long> cursors();

  /**
   * Pending changes with a sequence above {@code afterChangeSeq}, in sequence order, up to the
   * limits (at least one if any).
   */
  List<DocChange> pendingChanges(long afterChangeSeq, int maxChanges, int maxBytes);

  /**
   * The cloud processed every change up to {@code changeSeq}; those in {@code resendFull} must be
   * sent again as whole documents (they get new change sequences).
   */
  void acknowledged(long changeSeq, List<Long> resendFull);

  /**
   * The cloud refused these changes (processed, nothing stored; e.g. NOT_AUTHORIZED): each is no
   * longer pending and is never sent again; the replica records the refusal and puts the key back
   * to the cloud's version it was based on. Called before {@link #acknowledged} for the same ack.
   */
  default void refused(List<DocRefusal> refusals) {}

  /** Applies cloud versions (and advances the scopes' cursors) in one local transaction. */
  void apply(List<DocUpdate> updates);

  /** A replica for agents without documents. */
  DocReplica NONE =
      new DocReplica() {
        @Override
        public Map<String, Long> cursors() {
          return Map.of();
        }

        @Override
        public List<DocChange> pendingChanges(long afterChangeSeq, int maxChanges, int maxBytes) {
          return List.of();
        }

        @Override
        public void acknowledged(long changeSeq, List<Long> resendFull) {}

        @Override
        public void apply(List<DocUpdate> updates) {}
      };
}

package io.edgesync.engine.docs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The parsed trees of values recently written or read in a transaction, found by the identity of
 * their bytes (the store hands back the arrays it was given, so the next change of a key finds the
 * tree its previous version was written from): a change then parses nothing but its own patch.
 *
 * <p>Thread safe and lock-free: direct-mapped, a slot holds one immutable entry, and a race only
 * costs a miss. Trees here are never changed after they are made.
 */
final class ParsedValues {
  private static final int SLOTS = 4096;

  /** A value and its parsed tree. */
  private record Entry(byte[] bytes, JsonNode tree) {}

  private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(SLOTS);

  /** The tree of {@code value}, parsed now unless it is held. */
  JsonNode parsed(byte[] value) {
    int slot = slot(value);
    Entry e = slots.get(slot);
    if (e != null && e.bytes() == value) {
      return e.tree();
    }
    JsonNode tree = JsonDocs.parse(value);
    slots.set(slot, new Entry(value, tree));
    return tree;
  }

  /** Holds the tree of a value about to be written (ignored when either is null). */
  void remember(byte[] value, JsonNode tree) {
    if (value != null && tree != null) {
      slots.set(slot(value), new Entry(value, tree));
    }
  }

  private static int slot(byte[] value) {
    return System.identityHashCode(value) & (SLOTS - 1);
  }
}

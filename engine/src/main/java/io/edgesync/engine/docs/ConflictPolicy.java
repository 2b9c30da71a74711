package io.edgesync.engine.docs;

/**
 * The conflict rules of one document collection.
 *
 * @param strategy what decides a conflict
 * @param flagFieldConflicts under {@code merge}: a field changed on both sides opens a manual
 *     conflict (the cloud keeps the merge with its own value for those fields) instead of going by
 *     HLC
 * @param autoResolve false: every conflict waits in the inbox, whatever the strategy
 * @param flagForReview automatic resolutions are also marked for review in the inbox
 * @param resolver the resolver for {@code custom}, else null
 * @param resolverName its configured class name, for the audit log
 */
public record ConflictPolicy(
    ConflictStrategy strategy,
    boolean flagFieldConflicts,
    boolean autoResolve,
    boolean flagForReview,
    ConflictResolver resolver,
    String resolverName) {

  public ConflictPolicy {
    if (strategy == ConflictStrategy.CUSTOM && resolver == null) {
      throw new IllegalArgumentException("the custom strategy needs a resolver");
    }
  }

  public static ConflictPolicy of(ConflictStrategy strategy) {
    return new ConflictPolicy(strategy, false, true, false, null, null);
  }
}

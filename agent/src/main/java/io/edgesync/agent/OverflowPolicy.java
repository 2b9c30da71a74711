package io.edgesync.agent;

/** What an append does when the outbox is at its record or byte limit. */
public enum OverflowPolicy {
  /** Drop the oldest records of the lowest-priority stream; report the range as a gap. */
  DROP_OLDEST,
  /** Refuse the new records with {@link QueueFullException}. */
  REJECT,
  /** Wait up to the block timeout for acknowledgements to free space, then refuse. */
  BLOCK
}

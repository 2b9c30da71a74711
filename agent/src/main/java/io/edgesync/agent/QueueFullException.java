package io.edgesync.agent;

/**
 * An append was refused because the outbox is full (or the agent is offline with offline buffering
 * off): code {@link Code#QUEUE_FULL}. Nothing of the append was stored.
 */
public final class QueueFullException extends EdgeSyncException {
  public QueueFullException(String message) {
    super(Code.QUEUE_FULL, message);
  }
}

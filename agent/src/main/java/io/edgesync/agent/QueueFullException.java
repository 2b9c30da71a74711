package io.edgesync.agent;

/** An append was refused because the outbox is full. Nothing of the append was stored. */
public final class QueueFullException extends RuntimeException {
  public QueueFullException(String message) {
    super(message);
  }
}

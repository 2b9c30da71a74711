package io.edgesync.engine.docs;

/**
 * A document request that cannot be served; {@link #kind} maps to an HTTP status. Nothing was
 * stored.
 */
public final class DocumentException extends RuntimeException {
  public enum Kind {
    INVALID, // 400
    NOT_FOUND, // 404
    CONFLICT, // 409: a precondition (If-Match version, conflict already resolved) failed
    TOO_LARGE // 413
  }

  private final Kind kind;

  public DocumentException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}

package io.edgesync.server.files;

/**
 * A file operation refused, with what was wrong; nothing was stored. {@link #kind} says what kind
 * of refusal it is (the REST API answers 400, 404 or 409 for them).
 */
public final class FileRefusal extends RuntimeException {
  /** What kind of problem. */
  public enum Kind {
    /** The request itself is wrong: a bad path, signature, size, target. */
    BAD_INPUT,
    /** It names something that is not there: a version, a rollout, an upload. */
    NOT_FOUND,
    /** It does not fit the current state: a version taken meanwhile, a cancelled rollout. */
    CONFLICT
  }

  private final Kind kind;

  public FileRefusal(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  static FileRefusal badInput(String message) {
    return new FileRefusal(Kind.BAD_INPUT, message);
  }

  static FileRefusal notFound(String message) {
    return new FileRefusal(Kind.NOT_FOUND, message);
  }

  static FileRefusal conflict(String message) {
    return new FileRefusal(Kind.CONFLICT, message);
  }
}

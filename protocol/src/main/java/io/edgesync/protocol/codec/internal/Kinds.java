package io.edgesync.protocol.codec.internal;

/** The kinds of value a template hole holds. The numbers are wire values: never renumber. */
public final class Kinds {
  public static final byte STRING = 0;
  public static final byte DECIMAL = 1;
  public static final byte NUMTEXT = 2;
  public static final byte TRUE = 3;
  public static final byte FALSE = 4;
  public static final byte NULL = 5;
  public static final int COUNT = 6;

  private Kinds() {}

  static final byte[] TRUE_BYTES = {'t', 'r', 'u', 'e'};
  static final byte[] FALSE_BYTES = {'f', 'a', 'l', 's', 'e'};
  static final byte[] NULL_BYTES = {'n', 'u', 'l', 'l'};

  public static String name(int kind) {
    return switch (kind) {
      case STRING -> "string";
      case DECIMAL -> "decimal";
      case NUMTEXT -> "number text";
      case TRUE -> "true";
      case FALSE -> "false";
      case NULL -> "null";
      default -> "kind " + kind;
    };
  }
}

package io.edgesync.protocol;

import java.util.regex.Pattern;

/** Protocol constants and the hard limits both peers enforce. */
public final class ProtocolLimits {
  /** The only protocol version this build speaks. */
  public static final int PROTOCOL_VERSION = 1;

  /** Frames above this size are rejected whatever a peer negotiates. */
  public static final int MAX_FRAME_BYTES_CEILING = 16 * 1024 * 1024;

  /** Default maximum frame size, offered by the server in Welcome. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

  /** Default maximum number of records in one batch. */
  public static final int DEFAULT_MAX_RECORDS_PER_BATCH = 8192;

  /** A single record's payload may not exceed this. */
  public static final int MAX_RECORD_BYTES = 1024 * 1024;

  /** Stream names: 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit. */
  public static final String STREAM_NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}";

  /** Device ids: 1..128 characters of [A-Za-z0-9_.:-], starting with a letter or digit. */
  public static final String DEVICE_ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}";

  /** Default and ceiling for one document's JSON value. */
  public static final int DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024;

  public static final int MAX_DOCUMENT_BYTES_CEILING = 1024 * 1024;

  /** Document collections and group names: like stream names. */
  public static final String COLLECTION_PATTERN = STREAM_NAME_PATTERN;

  /** Document keys: 1..256 characters of [A-Za-z0-9_.:@-], starting with a letter or digit. */
  public static final String DOC_KEY_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.:@-]{0,255}";

  private static final Pattern DOC_KEY = Pattern.compile(DOC_KEY_PATTERN);
  private static final Pattern STREAM_NAME = Pattern.compile(STREAM_NAME_PATTERN);
  private static final Pattern DEVICE_ID = Pattern.compile(DEVICE_ID_PATTERN);

  private ProtocolLimits() {}

  public static boolean isValidStreamName(String name) {
    return name != null && STREAM_NAME.matcher(name).matches();
  }

  public static boolean isValidCollection(String name) {
    return isValidStreamName(name);
  }

  public static boolean isValidDocKey(String key) {
    return key != null && DOC_KEY.matcher(key).matches();
  }

  public static boolean isValidDeviceId(String id) {
    return id != null && DEVICE_ID.matcher(id).matches();
  }
}

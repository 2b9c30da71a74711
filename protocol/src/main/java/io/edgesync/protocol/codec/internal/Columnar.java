package io.edgesync.protocol.codec.internal;

/** Wire constants of the COLUMNAR codec (docs/codecs.md). Never renumber. */
final class Columnar {
  static final String NAME = "COLUMNAR";

  static final int LAYOUT_STREAMS = 0;
  static final int LAYOUT_ONE_FRAME = 1;

  static final int FLAG_TEMPLATE_INDEX = 1;
  static final int FLAG_RAW = 2;
  static final int FLAG_DICTIONARY = 4;
  static final int FLAG_TEXT = 8;

  /** Meta holds a series count per template; series templates are in series order (v2). */
  static final int FLAG_SERIES = 16;

  static final int ORIGIN_OWN = 0;
  static final int ORIGIN_SLOT_MS = 1;
  static final int ORIGIN_SLOT_S = 2;

  static final int KINDS_STREAM = 255;

  static final int IDS_STREAM = 0;
  static final int IDS_CONSTANT = 1;

  static final int SCALE_FIXED = 0;
  static final int SCALE_SHORTEST = 1;
  static final int SCALE_EXPLICIT = 2;

  /** Streams shorter than this are stored raw: a zstd frame would not be smaller. */
  static final int MIN_COMPRESS_BYTES = 24;

  /** Below this many bytes of streams the encoder also tries one frame over all of them. */
  static final int ONE_FRAME_TRY_BYTES = 16 * 1024;

  /** Most templates one batch may define; records of further shapes are stored raw. */
  static final int MAX_TEMPLATES = 256;

  private Columnar() {}
}

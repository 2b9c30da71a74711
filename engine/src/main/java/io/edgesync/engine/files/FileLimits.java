package io.edgesync.engine.files;

/**
 * The bounds of file transfers that both sides must agree on. Memory per transfer is bounded by one
 * pack's decoded bytes plus its dictionary: {@link #MAX_PACK_RAW_BYTES} + {@link
 * #MAX_DICTIONARY_BYTES}, whatever the file's size.
 */
public final class FileLimits {
  /** Largest file version, bytes (64 GiB). */
  public static final long MAX_FILE_BYTES = 64L << 30;

  /** Most chunks of one version (with the default 16 KiB minimum chunk, 64 GiB is 4 Mi chunks). */
  public static final int MAX_CHUNKS = 4 << 20;

  /**
   * Most entries in one ManifestPage frame. A DeltaPlan is one frame whatever its entries: its size
   * is bounded as DeltaPlanner's class comment says, and a sender sends the manifest instead of a
   * plan that does not fit.
   */
  public static final int MAX_PAGE_CHUNKS = 4096;

  /** Most decoded bytes of one ChunkPack (and of one FileData frame's packs together). */
  public static final int MAX_PACK_RAW_BYTES = 4 << 20;

  /** Most bytes of base chunks one PACK_ZSTD_PATCH pack names as its dictionary. */
  public static final int MAX_DICTIONARY_BYTES = 8 << 20;

  /** Most ranges in one FileRequest or ChunkPack. */
  public static final int MAX_RANGES = 1024;

  private FileLimits() {}
}

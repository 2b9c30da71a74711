package io.edgesync.protocol.codec;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.wire.ErrorCode;

/**
 * How a batch's records are laid out in {@code RecordBatch.payload}. The numeric {@link #id()} is
 * what travels on the wire (the {@code Codec} enum of the protocol); never renumber. Formats are
 * described byte by byte in docs/codecs.md. Every codec but {@link #NONE} ends its payload with a
 * CRC-32C of the batch's record layout.
 */
public enum Codec {
  /** The record layout ({@code RecordLayout}), uncompressed. */
  NONE(0, false),
  /** A gzip member of the record layout. */
  GZIP(1, false),
  /** A raw LZMA2 stream of the record layout. */
  LZMA(2, false),
  /** One zstd frame of the record layout, optionally with a trained dictionary. */
  ZSTD(3, false),
  /**
   * The record layout through the session's zstd stream: each batch is a flushed part of one
   * stream, so it can refer to earlier batches (context takeover). Needs the session's earlier
   * batches, in order.
   */
  ZSTD_STREAM(4, true),
  /** JSON records as columns of template values (dictionaries, deltas), zstd per column. */
  COLUMNAR(5, false),
  /**
   * JSON records as references to templates the session knows plus value deltas against the
   * session's previous record; larger batches also go through the session's zstd stream. Needs the
   * session's earlier batches, in order.
   */
  TEMPLATE_STREAM(6, true);

  private final int id;
  private final boolean session;

  Codec(int id, boolean session) {
    this.id = id;
    this.session = session;
  }

  /** The stable wire number. */
  public int id() {
    return id;
  }

  /** Whether decoding a batch needs the earlier batches of the same session. */
  public boolean needsSession() {
    return session;
  }

  /**
   * @throws ProtocolException INVALID_BATCH for an id this build does not know
   */
  public static Codec fromId(int id) throws ProtocolException {
    for (Codec c : values()) {
      if (c.id == id) {
        return c;
      }
    }
    throw new ProtocolException(ErrorCode.INVALID_BATCH, "unknown codec " + id);
  }
}

package io.edgesync.engine.cloud;

import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.dict.DictionaryStore;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the cloud keeps what devices sent. The default implementation is an embedded SQLite file; a
 * PostgreSQL implementation serves production. Implementations are thread safe, and a commit method
 * returns only after its data is durable.
 *
 * <p>Commits are idempotent by (device, stream, sequence): records at or below the stream's
 * checkpoint are already stored and are skipped, so a resent batch is never stored twice. A commit
 * that would leave a hole (its first sequence beyond checkpoint + 1) is refused with a {@link
 * SequenceException} and stores nothing.
 */
public interface CloudStore extends AutoCloseable {

  Optional<Device> device(String deviceId);

  /** Registers a device (idempotent: an existing registration is returned unchanged). */
  Device registerDevice(String deviceId, long nowMs);

  /**
   * Binds the device to the edge store its sequences come from, if it is not bound yet, and returns
   * the bound store id (which differs from {@code storeId} if another store came first).
   */
  String bindStore(String deviceId, String storeId);

  /** The store id the device is bound to, if any (read only: binds nothing). */
  Optional<String> boundStore(String deviceId);

  /**
   * Claims the device's session for this store's node (server process): the claim takes the
   * device's next session epoch, and from then on this node commits for the device only while no
   * newer claim, made through another node sharing the database, superseded it; a commit after that
   * throws {@link SessionFencedException} and stores nothing. The checkpoints this node returns
   * afterwards are read after the claim, so they include everything the previous holder committed.
   *
   * <p>The claim also records the device as seen at {@code nowMs} ({@link #touchDevice}), in the
   * same write. A store that serves one node only keeps no epochs (the default: only the touch).
   *
   * @return the claim's epoch (0 for a store that keeps none)
   */
  default long claimSession(String deviceId, long nowMs) {
    touchDevice(deviceId, nowMs);
    return 0;
  }

  /** Updates a device's last-seen time. */
  void touchDevice(String deviceId, long nowMs);

  /** The last committed sequence (record or gap) of every stream of the device. */
  Map<String, Long> checkpoints(String deviceId);

  /**
   * Stores consecutive records; returns the stream's checkpoint afterwards.
   *
   * @throws SequenceException if the records do not continue the stream
   */
  long commitRecords(String deviceId, String stream, List<Record> records, long nowMs)
      throws SequenceException;

  /**
   * Stores consecutive records like {@link #commitRecords(String, String, List, long)} and counts
   * what their batch cost on the wire ({@code wire}) in the stream's accounting — also when every
   * record was a resend the store skipped, since those bytes crossed the link too. Stores that keep
   * no accounting ignore {@code wire}.
   */
  default long commitRecords(
      String deviceId, String stream, List<Record> records, long nowMs, WireBytes wire)
      throws SequenceException {
    return commitRecords(deviceId, stream, records, nowMs);
  }

  /**
   * What one batch cost on the wire: its records in the uncompressed record layout ({@code
   * rawBytes}), its encoded payload, and the whole frame.
   */
  record WireBytes(long rawBytes, long payloadBytes, long frameBytes) {}

  /** Stores an explicit gap; idempotent like {@link #commitRecords}. */
  long commitGap(
      String deviceId,
      String stream,
      long firstSequence,
      long lastSequence,
      GapReason reason,
      long droppedAtMs,
      long nowMs)
      throws SequenceException;

  List<Device> devices();

  List<StreamSummary> streams(String deviceId);

  List<StoredGap> gaps(String deviceId, String stream);

  /** Up to {@code limit} records with sequence greater than {@code afterSequence}, in order. */
  List<Record> read(String deviceId, String stream, long afterSequence, int limit);

  /**
   * The checkpoint of every stream of every device (what the Kafka exporter compares its positions
   * with). Stores that cannot export throw {@link UnsupportedOperationException}.
   */
  default List<StreamHead> streamHeads() {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot list streams");
  }

  /**
   * Like {@link #read}, each record with the time its batch was committed (the receive time the
   * exporter reports). Stores that cannot export throw {@link UnsupportedOperationException}.
   */
  default List<CommittedRecord> readCommitted(
      String deviceId, String stream, long afterSequence, int limit) {
    throw new UnsupportedOperationException(
        getClass().getSimpleName() + " cannot read commit times");
  }

  /** A stream's last committed sequence (record or gap). */
  record StreamHead(String deviceId, String stream, long lastSequence) {}

  /** A stored record and the time the cloud committed its batch. */
  record CommittedRecord(Record record, long committedAtMs) {}

  /** The document store in the same database, or null if this store keeps no documents. */
  default DocumentStore documents() {
    return null;
  }

  /** The dictionary store in the same database, or null if this store keeps no dictionaries. */
  default DictionaryStore dictionaries() {
    return null;
  }

  /** The command store in the same database, or null if this store keeps no commands. */
  default CommandStore commands() {
    return null;
  }

  @Override
  void close();

  record Device(String id, long registeredAtMs, long lastSeenMs) {}

  /**
   * Per device and stream: the checkpoint, what is stored, and what arrived on the wire ({@code
   * wire*}: every batch received, resends included; raw = the record layout, payload = the encoded
   * RecordBatch payload, frame = the whole frame), and what retention expired of it ({@code
   * expired}; {@code records} counts every record committed, expired ones too).
   */
  record StreamSummary(
      String stream,
      long lastSequence,
      long records,
      long payloadBytes,
      long gaps,
      long droppedRecords,
      long wireBatches,
      long wireRawBytes,
      long wirePayloadBytes,
      long wireFrameBytes,
      Expired expired) {

    /** What retention expired of a stream: records, bytes as stored, and through which sequence. */
    public record Expired(long records, long bytes, long throughSequence) {
      public static final Expired NONE = new Expired(0, 0, 0);
    }

    /** Nothing expired (a store without retention). */
    public StreamSummary(
        String stream,
        long lastSequence,
        long records,
        long payloadBytes,
        long gaps,
        long droppedRecords,
        long wireBatches,
        long wireRawBytes,
        long wirePayloadBytes,
        long wireFrameBytes) {
      this(
          stream,
          lastSequence,
          records,
          payloadBytes,
          gaps,
          droppedRecords,
          wireBatches,
          wireRawBytes,
          wirePayloadBytes,
          wireFrameBytes,
          Expired.NONE);
    }

    /** Without wire accounting. */
    public StreamSummary(
        String stream,
        long lastSequence,
        long records,
        long payloadBytes,
        long gaps,
        long droppedRecords) {
      this(stream, lastSequence, records, payloadBytes, gaps, droppedRecords, 0, 0, 0, 0);
    }

    /** Raw bytes per frame byte (e.g. 40.0 = 40 times smaller on the wire); 0 when unknown. */
    public double wireRatio() {
      return wireFrameBytes == 0 ? 0 : (double) wireRawBytes / wireFrameBytes;
    }
  }

  record StoredGap(
      long firstSequence,
      long lastSequence,
      GapReason reason,
      long droppedAtMs,
      long committedAtMs) {}

  /**
   * A commit for a device whose session a newer claim, through another node, took over ({@link
   * #claimSession}). Nothing was stored; the session on this node must end.
   */
  final class SessionFencedException extends RuntimeException {
    public SessionFencedException(String message) {
      super(message);
    }
  }

  /** A commit that does not continue the stream's sequence. Nothing was stored. */
  final class SequenceException extends Exception {
    public SequenceException(String message) {
      super(message);
    }
  }
}

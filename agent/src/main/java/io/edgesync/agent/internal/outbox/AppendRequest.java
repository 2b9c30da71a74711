package io.edgesync.agent.internal.outbox;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.support.jdbc.GroupCommitWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One append call; the fields after {@code future} are the writer thread's working state. */
final class AppendRequest implements GroupCommitWriter.Unit {
  /** What a left-out payload duplicates; its sequence may be known only after assignment. */
  sealed interface Original {
    long sequence();
  }

  /** A record stored before this group: its sequence is known. */
  record Stored(long sequence) implements Original {}

  /** The {@code keptIndex}-th kept payload of {@code request}, in this group. */
  record InGroup(AppendRequest request, int keptIndex) implements Original {
    @Override
    public long sequence() {
      return request.assigned + keptIndex;
    }
  }

  /** The payload at {@code index} was left out as a duplicate of {@code original}. */
  record LeftOut(int index, Original original) {}

  final String stream;
  final List<byte[]> payloads;
  final long bytes;
  final long originMs;
  final long enqueuedNanos;
  final CompletableFuture<SqliteOutbox.Appended> future;

  List<byte[]> kept = List.of();
  List<OutboxDedup.Key> keptKeys = List.of();
  long keptBytes;
  List<LeftOut> dups = List.of();
  long assigned;

  AppendRequest(
      String stream,
      List<byte[]> payloads,
      long bytes,
      long originMs,
      long enqueuedNanos,
      CompletableFuture<SqliteOutbox.Appended> future) {
    this.stream = stream;
    this.payloads = payloads;
    this.bytes = bytes;
    this.originMs = originMs;
    this.enqueuedNanos = enqueuedNanos;
    this.future = future;
  }

  /** Why an append of {@code payloads} to {@code stream} is refused before queueing, or null. */
  static IllegalArgumentException invalid(String stream, List<byte[]> payloads) {
    if (!ProtocolLimits.isValidStreamName(stream)) {
      return new IllegalArgumentException(
          "invalid stream name '" + stream + "': must match " + ProtocolLimits.STREAM_NAME_PATTERN);
    }
    if (payloads.isEmpty()) {
      return new IllegalArgumentException("nothing to append");
    }
    for (byte[] p : payloads) {
      if (p.length > ProtocolLimits.MAX_RECORD_BYTES) {
        return new IllegalArgumentException(
            "record of "
                + p.length
                + " bytes exceeds the limit of "
                + ProtocolLimits.MAX_RECORD_BYTES
                + " bytes");
      }
    }
    return null;
  }

  @Override
  public int weight() {
    return payloads.size();
  }

  @Override
  public void fail(Throwable e) {
    future.completeExceptionally(e);
  }

  /** The result, once the group committed (sequences assigned). */
  SqliteOutbox.Appended result() {
    List<SqliteOutbox.Duplicate> out = new ArrayList<>(dups.size());
    for (LeftOut d : dups) {
      out.add(new SqliteOutbox.Duplicate(d.index(), d.original().sequence()));
    }
    return new SqliteOutbox.Appended(assigned, kept.size(), List.copyOf(out));
  }
}

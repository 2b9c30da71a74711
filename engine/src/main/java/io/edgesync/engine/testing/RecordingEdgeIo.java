package io.edgesync.engine.testing;

import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * An {@link EdgeSyncEngine.Io} that records what the engine does: connects (counted), frames sent
 * and disconnects (with their reasons), in order. Its nanosecond ticker is the test's: 0 unless
 * {@link #nanoTime(LongSupplier)} sets one (the engine then measures its encoding time with it).
 * Answers nothing: the test calls {@code onConnected} or {@code onDisconnected} itself. Not thread
 * safe.
 */
public final class RecordingEdgeIo implements EdgeSyncEngine.Io {
  private final List<Frame> frames = new ArrayList<>();
  private final List<String> disconnects = new ArrayList<>();
  private int connects;
  private LongSupplier nanoTime = () -> 0;

  @Override
  public void connect() {
    connects++;
  }

  @Override
  public void send(Frame frame) {
    frames.add(frame);
  }

  @Override
  public void disconnect(String reason) {
    disconnects.add(reason);
  }

  @Override
  public long nanoTime() {
    return nanoTime.getAsLong();
  }

  /** The engine's ticker from now on. */
  public RecordingEdgeIo nanoTime(LongSupplier ticker) {
    this.nanoTime = ticker;
    return this;
  }

  /** How many times the engine asked to connect. */
  public int connects() {
    return connects;
  }

  /** The frames sent, oldest first; the live list (a test may clear it). */
  public List<Frame> frames() {
    return frames;
  }

  /** The reasons of the disconnects the engine asked for, oldest first; the live list. */
  public List<String> disconnects() {
    return disconnects;
  }

  /** The record batches among the frames sent since the last take; every frame is taken. */
  public List<RecordBatch> takeBatches() {
    List<RecordBatch> out = new ArrayList<>();
    for (Frame f : frames) {
      if (f.hasBatch()) {
        out.add(f.getBatch());
      }
    }
    frames.clear();
    return out;
  }
}

package io.edgesync.testing;

import io.edgesync.protocol.Clock;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to; may be set backwards to model wall-clock steps. */
public final class FakeClock implements Clock {
  private final AtomicLong nowMs;

  public FakeClock(long startMs) {
    this.nowMs = new AtomicLong(startMs);
  }

  @Override
  public long nowMs() {
    return nowMs.get();
  }

  public long advance(long deltaMs) {
    return nowMs.addAndGet(deltaMs);
  }

  public void set(long ms) {
    nowMs.set(ms);
  }
}

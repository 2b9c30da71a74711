package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The silence rule on a fake monotonic clock; SessionLivenessTest (cli) runs it over sockets. */
class SilenceWatchTest {
  private static final long MS = 1_000_000;

  private long nowNanos = 5_000 * MS;
  private final SilenceWatch watch = new SilenceWatch(1_000, () -> nowNanos);
  private final List<String> silent = new ArrayList<>();

  private final class Conn implements SilenceWatch.Connection {
    final String name;
    long bytes;

    Conn(String name, long bytes) {
      this.name = name;
      this.bytes = bytes;
    }

    @Override
    public long bytesIn() {
      return bytes;
    }

    @Override
    public void onSilent(long silentMs) {
      silent.add(name + " " + silentMs);
    }
  }

  @Test
  void silentForLongerThanTheTimeout_reportedOnce_notAtTheTimeoutItself() {
    watch.watch("a", new Conn("a", 100));
    nowNanos += 1_000 * MS;
    assertThat(watch.check()).isZero();
    nowNanos += 1 * MS;
    assertThat(watch.check()).isOne();
    assertThat(silent).containsExactly("a 1001");
    nowNanos += 5_000 * MS;
    assertThat(watch.check()).isZero();
    assertThat(watch.size()).isZero();
  }

  @Test
  void bytesReadMidFrame_countAsHeard() {
    Conn c = new Conn("a", 100);
    watch.watch("a", c);
    for (int i = 0; i < 5; i++) { // a frame arriving in fragments for 4 s, no whole frame
      nowNanos += 800 * MS;
      c.bytes += 16_384;
      assertThat(watch.check()).isZero();
    }
    nowNanos += 1_001 * MS;
    assertThat(watch.check()).isOne();
  }

  @Test
  void wholeFrames_countAsHeard_whenTheTransportCannotCountBytes() {
    watch.watch("a", new Conn("a", -1));
    nowNanos += 900 * MS;
    watch.handling("a");
    watch.handled("a");
    nowNanos += 900 * MS;
    assertThat(watch.check()).isZero();
    nowNanos += 101 * MS;
    assertThat(watch.check()).isOne();
  }

  @Test
  void timeTheServerSpendsOnAFrame_isNotSilence() {
    // A slow commit: the server reads nothing more from the device meanwhile.
    watch.watch("a", new Conn("a", 10));
    watch.handling("a");
    nowNanos += 30_000 * MS;
    assertThat(watch.check()).isZero();
    watch.handled("a");
    nowNanos += 1_000 * MS;
    assertThat(watch.check()).isZero();
    nowNanos += 1 * MS;
    assertThat(watch.check()).isOne();
    assertThat(silent).containsExactly("a 1001");
  }

  @Test
  void closedConnection_isForgotten() {
    watch.watch("a", new Conn("a", 0));
    watch.unwatch("a");
    watch.handled("a");
    nowNanos += 10_000 * MS;
    assertThat(watch.check()).isZero();
    assertThat(silent).isEmpty();
  }
}

package io.edgesync.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.HlcTimestamp;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The HLC timestamp value: order, text form, wire form. */
class HlcTest {

  @Test
  void orderIsWallThenCounterThenNode() {
    Hlc a = new Hlc(100, 5, "zz");
    Hlc b = new Hlc(101, 0, "aa");
    Hlc c = new Hlc(101, 1, "aa");
    Hlc d = new Hlc(101, 1, "ab");

    assertThat(a).isLessThan(b);
    assertThat(b).isLessThan(c);
    assertThat(c).isLessThan(d);
    assertThat(d.after(c)).isTrue();
    assertThat(c.after(d)).isFalse();
    assertThat(c.after(c)).isFalse();
    assertThat(c.compareTo(new Hlc(101, 1, "aa"))).isZero();

    List<Hlc> shuffled = new ArrayList<>(List.of(d, b, a, c));
    Collections.shuffle(shuffled, new java.util.Random(7));
    Collections.sort(shuffled);
    assertThat(shuffled).containsExactly(a, b, c, d);
  }

  @Test
  void sameWallAndCounter_nodeIdBreaksTheTie_soDistinctNodesNeverCompareEqual() {
    Hlc gw1 = new Hlc(5_000, 3, "gw-1");
    Hlc gw2 = new Hlc(5_000, 3, "gw-2");

    assertThat(gw2.after(gw1)).isTrue();
    assertThat(gw1.after(gw2)).isFalse();
    assertThat(gw1.compareTo(gw2)).isNotZero();
    assertThat(gw1).isNotEqualTo(gw2);
  }

  @Test
  void textForm_roundTrips() {
    SplittableRandom random = new SplittableRandom(42);
    List<Hlc> samples = new ArrayList<>(List.of(Hlc.ZERO, new Hlc(Long.MAX_VALUE, 0, "x")));
    String nodeChars = "abcXYZ019_.:-@";
    for (int i = 0; i < 500; i++) {
      StringBuilder node = new StringBuilder("n");
      int len = random.nextInt(12);
      for (int j = 0; j < len; j++) {
        node.append(nodeChars.charAt(random.nextInt(nodeChars.length())));
      }
      samples.add(
          new Hlc(
              random.nextLong(0, Long.MAX_VALUE),
              random.nextInt(0, Integer.MAX_VALUE),
              node.toString()));
    }
    for (Hlc h : samples) {
      assertThat(Hlc.parse(h.toString())).as(h.toString()).isEqualTo(h);
    }
    assertThat(new Hlc(1_700_000_000_123L, 7, "gw-1").toString()).isEqualTo("1700000000123.7@gw-1");
    assertThat(Hlc.parse("12.0@cloud")).isEqualTo(new Hlc(12, 0, "cloud"));
  }

  @Test
  void parse_rejectsMalformedText_namingTheInputAndTheExpectedForm() {
    for (String bad : List.of("", "12", "12@n", "12.@n", ".3@n", "12.3", "x.3@n", "12.y@n")) {
      assertThatThrownBy(() -> Hlc.parse(bad))
          .as("'%s'", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'")
          .hasMessageContaining("<wallMs>.<counter>@<node>");
    }
    // counter beyond an int
    assertThatThrownBy(() -> Hlc.parse("12.99999999999@n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an HLC timestamp");
  }

  @Test
  void negativeParts_areRefused() {
    assertThatThrownBy(() -> Hlc.parse("-5.1@n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative");
    assertThatThrownBy(() -> new Hlc(1, -1, "n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1.-1@n");
    assertThatThrownBy(() -> new Hlc(1, 0, null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void wireForm_roundTrips() throws Exception {
    Hlc h = new Hlc(1_700_000_000_123L, 42, "gw-7");
    HlcTimestamp wire = h.toWire();
    assertThat(wire.getWallMs()).isEqualTo(1_700_000_000_123L);
    assertThat(wire.getLogical()).isEqualTo(42);
    assertThat(wire.getNode()).isEqualTo("gw-7");
    assertThat(Hlc.fromWire(HlcTimestamp.parseFrom(wire.toByteArray()))).isEqualTo(h);
  }

  @Test
  void fromWire_rejectsNegativeWall() {
    HlcTimestamp t = HlcTimestamp.newBuilder().setWallMs(-1).setLogical(0).setNode("gw").build();
    assertThatThrownBy(() -> Hlc.fromWire(t))
        .isInstanceOfSatisfying(
            ProtocolException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DOCUMENT))
        .hasMessageContaining("-1.0@'gw'")
        .hasMessageContaining("non-negative");
  }

  @Test
  void fromWire_rejectsCounterAboveSignedRange_showingItUnsigned() {
    // uint32 on the wire: 2^31 and above arrive as a negative int
    HlcTimestamp t =
        HlcTimestamp.newBuilder().setWallMs(10).setLogical(0x8000_0000).setNode("gw").build();
    assertThatThrownBy(() -> Hlc.fromWire(t))
        .isInstanceOfSatisfying(
            ProtocolException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DOCUMENT))
        .hasMessageContaining("10.2147483648@'gw'");
  }

  @Test
  void fromWire_rejectsMissingNode() {
    HlcTimestamp t = HlcTimestamp.newBuilder().setWallMs(10).setLogical(1).build();
    assertThatThrownBy(() -> Hlc.fromWire(t))
        .isInstanceOfSatisfying(
            ProtocolException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DOCUMENT))
        .hasMessageContaining("node named");
    // an absent timestamp (default instance) is refused the same way
    assertThatThrownBy(() -> Hlc.fromWire(HlcTimestamp.getDefaultInstance()))
        .isInstanceOf(ProtocolException.class);
  }
}

package io.edgesync.agent.internal.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The size guard in front of the MQTT decoder, fed hex: it follows packets across reads. */
class PacketSizeGuardTest {
  private static ByteBuf hex(String h) {
    return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(h));
  }

  private static String forwarded(EmbeddedChannel ch) {
    StringBuilder s = new StringBuilder();
    ByteBuf b;
    while ((b = ch.readInbound()) != null) {
      s.append(ByteBufUtil.hexDump(b));
      b.release();
    }
    return s.toString();
  }

  @Test
  void packetsWithinTheLimit_passUnchanged_evenSplitMidHeader() {
    EmbeddedChannel ch = new EmbeddedChannel(new PacketSizeGuard(200));
    // PINGREQ, then a PUBLISH of 130 bytes whose two-byte length is split across reads.
    ch.writeInbound(hex("c000" + "30"), hex("82"));
    ch.writeInbound(hex("01" + "00".repeat(130)));
    assertThat(forwarded(ch)).isEqualTo("c0003082" + "01" + "00".repeat(130));
  }

  @Test
  void aPacketOverTheLimit_isRefusedFromItsHeader_afterForwardingWhatCameBefore() {
    EmbeddedChannel ch = new EmbeddedChannel(new PacketSizeGuard(100));
    // A PINGREQ, then a PUBLISH announcing 100,000 bytes: 1 + 3 + 100,000 > 100.
    assertThatThrownBy(() -> ch.writeInbound(hex("c000" + "32a08d06" + "0009")))
        .isInstanceOf(PacketSizeGuard.PacketTooLargeException.class)
        .hasMessage("packet of 100004 bytes exceeds max_packet_bytes 100");
    assertThat(forwarded(ch)).isEqualTo("c000");
    ch.writeInbound(hex("ffff")); // discarded from now on
    assertThat(forwarded(ch)).isEmpty();
  }

  @Test
  void aRemainingLengthOfFiveBytes_isMalformed() {
    EmbeddedChannel ch = new EmbeddedChannel(new PacketSizeGuard(1 << 20));
    assertThatThrownBy(() -> ch.writeInbound(hex("30ffffffff7f")))
        .isInstanceOf(PacketSizeGuard.PacketTooLargeException.class)
        .hasMessageContaining("more than four bytes");
  }
}

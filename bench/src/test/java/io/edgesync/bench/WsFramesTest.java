package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The fleet client's WebSocket frames, byte for byte (RFC 6455 section 5). */
class WsFramesTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void clientFrame_isMaskedWithTheGivenKey() {
    byte[] f = WsFrames.clientFrame(WsFrames.OP_BINARY, new byte[] {1, 2, 3}, 0x0A0B0C0D);

    // FIN + binary, MASK + length 3, key 0a0b0c0d, payload 01 02 03 xor key
    assertThat(HEX.formatHex(f)).isEqualTo("82830a0b0c0d0b090f");
  }

  @Test
  void clientFrame_of300Bytes_usesThe16BitLength() {
    byte[] f = WsFrames.clientFrame(WsFrames.OP_BINARY, new byte[300], 0);

    assertThat(HEX.formatHex(f, 0, 4)).isEqualTo("82fe012c");
    assertThat(f).hasSize(2 + 2 + 4 + 300);
  }

  @Test
  void parse_waitsForTheWholeFrame_thenReturnsItsPayload() throws IOException {
    byte[] frame = HEX.parseHex("8203aabbcc");

    assertThat(WsFrames.parse(frame, 4, 100)).isNull();
    WsFrames.Frame f = WsFrames.parse(frame, 5, 100);
    assertThat(f.fin()).isTrue();
    assertThat(f.opcode()).isEqualTo(WsFrames.OP_BINARY);
    assertThat(HEX.formatHex(f.payload())).isEqualTo("aabbcc");
    assertThat(f.totalBytes()).isEqualTo(5);
  }

  @Test
  void parse_refusesAMaskedServerFrame() {
    assertThatThrownBy(() -> WsFrames.parse(HEX.parseHex("828100000000ff"), 7, 100))
        .isInstanceOf(IOException.class)
        .hasMessage("a masked WebSocket frame from the server");
  }

  @Test
  void parse_refusesAFrameOverTheLimit() {
    assertThatThrownBy(() -> WsFrames.parse(HEX.parseHex("827e0200"), 4, 100))
        .hasMessage("a WebSocket frame of 512 bytes, over 100");
  }

  @Test
  void fragments_joinIntoOneMessage_withAPingBetween() throws IOException {
    WsFrames.Fragments fragments = new WsFrames.Fragments();

    assertThat(fragments.add(new WsFrames.Frame(false, WsFrames.OP_BINARY, new byte[] {1}, 3), 10))
        .isNull();
    WsFrames.Message ping =
        fragments.add(new WsFrames.Frame(true, WsFrames.OP_PING, new byte[] {9}, 3), 10);
    WsFrames.Message m =
        fragments.add(new WsFrames.Frame(true, WsFrames.OP_CONTINUATION, new byte[] {2}, 3), 10);

    assertThat(ping.opcode()).isEqualTo(WsFrames.OP_PING);
    assertThat(m.opcode()).isEqualTo(WsFrames.OP_BINARY);
    assertThat(m.payload()).containsExactly(1, 2);
  }
}

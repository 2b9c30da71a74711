package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The MQTT bench's own client, byte for byte against MQTT 3.1.1: the remaining-length varint at its
 * boundaries, CONNECT and PUBLISH as the spec lays them out, the reader's whole-packet decoding and
 * its errors, packet ids wrapping after 65535 and skipping ids still in flight.
 */
class MqttPacketsTest {
  private static final HexFormat HEX = HexFormat.of();

  @ParameterizedTest
  @CsvSource({
    "0, 00",
    "127, 7f",
    "128, 8001",
    "16383, ff7f",
    "16384, 808001",
    "2097151, ffff7f",
    "2097152, 80808001",
    "268435455, ffffff7f"
  })
  void remainingLength_isTheSpecsVarint_atEachBoundary(int length, String hex) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(4);
    MqttPackets.putRemainingLength(b, length);
    assertThat(HEX.formatHex(b.array(), 0, b.position())).isEqualTo(hex);
    assertThat(MqttPackets.remainingLengthBytes(length)).isEqualTo(hex.length() / 2);
    assertThat(MqttReader.remainingLength(ByteBuffer.wrap(HEX.parseHex(hex)))).isEqualTo(length);
  }

  @Test
  void remainingLength_beyondFourBytes_isRefused() {
    assertThatThrownBy(() -> MqttPackets.putRemainingLength(ByteBuffer.allocate(8), 268_435_456))
        .hasMessage("remaining length 268435456 outside 0..268435455");
    assertThatThrownBy(
            () -> MqttReader.remainingLength(ByteBuffer.wrap(HEX.parseHex("ffffffff01"))))
        .hasMessage("malformed remaining length: a fifth length byte follows");
  }

  @Test
  void remainingLength_cutShort_waitsForMoreBytes() throws Exception {
    assertThat(MqttReader.remainingLength(ByteBuffer.wrap(HEX.parseHex("8080")))).isEqualTo(-1);
  }

  @Test
  void connect_isLevel4WithCleanSessionAndTheClientId() {
    assertThat(HEX.formatHex(MqttPackets.connect("bench-c00", 60)))
        .isEqualTo(
            "10"
                + "15" // CONNECT, remaining length 21
                + "00044d515454" // "MQTT"
                + "04" // level 4 = 3.1.1
                + "02" // clean session
                + "003c" // keep alive 60 s
                + "0009"
                + HEX.formatHex("bench-c00".getBytes()));
  }

  @Test
  void publishQos1_carriesTopicPacketIdAndPayload() {
    ByteBuffer b = ByteBuffer.allocate(64);
    MqttPackets.putPublishQos1(b, "a/b".getBytes(), 0x1234, "{}".getBytes());
    assertThat(HEX.formatHex(b.array(), 0, b.position()))
        .isEqualTo("32" + "09" + "0003612f62" + "1234" + "7b7d");
    assertThat(MqttPackets.publishQos1Bytes(3, 2)).isEqualTo(b.position());
  }

  @ParameterizedTest
  @CsvSource({"127, 1", "128, 2", "16383, 2", "16384, 3"})
  void publishQos1_lengthFieldGrowsAtTheBoundaries(int remaining, int lengthBytes) {
    byte[] topic = "t".getBytes();
    byte[] payload = new byte[remaining - 2 - topic.length - 2];
    ByteBuffer b = ByteBuffer.allocate(remaining + 8);
    MqttPackets.putPublishQos1(b, topic, 1, payload);
    assertThat(b.position()).isEqualTo(1 + lengthBytes + remaining);
    assertThat(MqttPackets.publishQos1Bytes(topic.length, payload.length)).isEqualTo(b.position());
  }

  @Test
  void packetIdZero_isNotAllowed() {
    assertThatThrownBy(
            () -> MqttPackets.putPublishQos1(ByteBuffer.allocate(64), new byte[1], 0, new byte[1]))
        .hasMessage("packet id 0 outside 1..65535");
  }

  @Test
  void reader_decodesWholePacketsOnly_acrossReads() throws Exception {
    List<String> seen = new ArrayList<>();
    MqttReader r = reader(seen);
    ByteBuffer in = ByteBuffer.allocate(64);
    in.put(HEX.parseHex("20020000" + "40020001" + "4002")).flip(); // CONNACK, PUBACK 1, half
    r.read(in);
    assertThat(seen).containsExactly("connack false 0", "puback 1");
    assertThat(in.remaining()).isEqualTo(2);
    in.compact().put(HEX.parseHex("fffe" + "d000")).flip(); // the rest, then PINGRESP
    r.read(in);
    assertThat(seen).containsExactly("connack false 0", "puback 1", "puback 65534");
    assertThat(in.hasRemaining()).isFalse();
  }

  @Test
  void reader_refusesWhatAPublisherCannotGet() {
    assertThatThrownBy(() -> read("4003000100"))
        .hasMessage("PUBACK with remaining length 3; MQTT 3.1.1 says 2");
    assertThatThrownBy(() -> read("40020000")).hasMessage("PUBACK of packet id 0");
    assertThatThrownBy(() -> read("4202 0001".replace(" ", "")))
        .hasMessage("packet type 4 with flags 2; want 0");
    assertThatThrownBy(() -> read("3005000161" + "0001"))
        .hasMessage("unexpected packet type 3 (5 bytes) for a publisher");
    assertThatThrownBy(() -> read("40ff7f"))
        .hasMessage("packet type 4 of 16383 bytes; at most 1024");
    assertThatThrownBy(() -> read("20020200"))
        .hasMessage("CONNACK acknowledge flags 2; want 0 or 1");
  }

  @Test
  void packetIds_wrapAfter65535_andSkipIdsStillInFlight() {
    MqttInflight f = new MqttInflight(3);
    int first = f.acquire(10); // 1 stays in flight across the wrap
    int second = f.acquire(11); // 2 too
    assertThat(List.of(first, second)).containsExactly(1, 2);
    for (int want = 3; want <= 65_535; want++) {
      assertThat(f.acquire(want)).isEqualTo(want);
      f.release(want);
    }
    assertThat(f.acquire(99)).isEqualTo(3); // wrapped past 65535, skipping 1 and 2
    assertThat(f.full()).isTrue();
    assertThatThrownBy(() -> f.acquire(100)).hasMessage("3 messages in flight, the window is 3");
    assertThat(f.release(1)).isEqualTo(10);
    assertThat(f.acquire(101)).isEqualTo(4);
    assertThatThrownBy(() -> f.release(1))
        .hasMessage("PUBACK for packet id 1, which is not in flight");
  }

  @Test
  void window_isBoundedByThePacketIdSpace() {
    assertThatThrownBy(() -> new MqttInflight(65_536))
        .hasMessage("in-flight window 65536 outside 1..65535");
    assertThatThrownBy(() -> new MqttInflight(0)).hasMessage("in-flight window 0 outside 1..65535");
  }

  private static void read(String hex) throws Exception {
    reader(new ArrayList<>()).read(ByteBuffer.wrap(HEX.parseHex(hex)));
  }

  private static MqttReader reader(List<String> seen) {
    return new MqttReader(
        new MqttReader.Callback() {
          @Override
          public void connack(boolean sessionPresent, int returnCode) {
            seen.add("connack " + sessionPresent + " " + returnCode);
          }

          @Override
          public void puback(int packetId) {
            seen.add("puback " + packetId);
          }
        });
  }
}

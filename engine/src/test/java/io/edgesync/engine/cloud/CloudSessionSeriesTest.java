package io.edgesync.engine.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.testing.InMemoryCloudStore;
import io.edgesync.engine.testing.RecordingCloudIo;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cloud's half of negotiating COLUMNAR's series layout (docs/protocol.md "Codecs"): it echoes
 * {@code columnar:series} only to an agent that offered it and only with COLUMNAR accepted, so an
 * older agent (which does not offer it) is never told about it, and a newer agent talking to an
 * older cloud (which never echoes it) keeps to the layout every decoder reads.
 */
class CloudSessionSeriesTest {
  private static final long T0 = 1_700_000_000_000L;

  private List<String> welcome(ServerPolicy policy, List<String> offered) {
    RecordingCloudIo io = new RecordingCloudIo();
    LazySession session =
        new LazySession(() -> new CloudSession(policy, new InMemoryCloudStore(s -> {}), io));
    session.receive(
        T0,
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setProtocolVersion(1)
                    .setDeviceId("dev-1")
                    .setAgentVersion("test/1")
                    .addAllCapabilities(offered))
            .build());
    assertThat(session.get().state()).isEqualTo(CloudSession.State.ACTIVE);
    return io.frames().get(0).getWelcome().getCapabilitiesList();
  }

  @Test
  void newAgent_isToldTheCloudReadsSeries() {
    List<String> offered = new ArrayList<>(CodecCapabilities.all());
    offered.add(CodecCapabilities.COLUMNAR_SERIES);
    assertThat(welcome(ServerPolicy.defaults(), offered))
        .contains("codec:columnar", CodecCapabilities.COLUMNAR_SERIES);
  }

  @Test
  void oldAgent_whichDoesNotOfferIt_isNotToldAboutSeries() {
    assertThat(welcome(ServerPolicy.defaults(), CodecCapabilities.all()))
        .contains("codec:columnar")
        .doesNotContain(CodecCapabilities.COLUMNAR_SERIES);
  }

  @Test
  void seriesIsNotEchoed_whenTheAgentDidNotOfferColumnar() {
    assertThat(
            welcome(
                ServerPolicy.defaults(), List.of("codec:zstd", CodecCapabilities.COLUMNAR_SERIES)))
        .doesNotContain(CodecCapabilities.COLUMNAR_SERIES);
  }
}

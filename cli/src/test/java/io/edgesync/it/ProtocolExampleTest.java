package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.protocol.wire.DocUpdates;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Heartbeat;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worked example of docs/protocol.md ("A whole session, byte by byte") is what the code does,
 * so that the page cannot drift from it: every fenced {@code frame <name>} block there is exactly
 * what {@link FrameCodec#encode} writes for the frame built here; decoding the documented bytes
 * gives that frame, and every annotation of the form {@code path = value} names a field the decoded
 * frame holds with that value. Then a real server with a fixed clock is sent the device's
 * documented frames over a real WebSocket and answers with exactly the cloud's documented bytes.
 */
class ProtocolExampleTest {
  /** 2026-01-01T00:00:00Z: the device's clock when it appended the first record. */
  static final long T = 1_767_225_600_000L;

  static final String DEVICE = "gw-1";
  static final String STORE_ID = "6f1c2e8a-4b7d-4e0f-9a35-2d8c7b1e5f40";
  static final byte[] RECORD_1 = "{\"t\":21.5}".getBytes(UTF_8);
  static final byte[] RECORD_2 = "{\"t\":21.7}".getBytes(UTF_8);
  static final String DOC_VALUE = "{\"eco\":true}";
  static final long DOC_WRITTEN_MS = T - 60_000;
  static final long HEARTBEAT_SENT_MS = T + 15_000;
  static final long HEARTBEAT_ANSWERED_MS = T + 15_020;

  private static final Pattern BLOCK = Pattern.compile("(?ms)^```frame ([a-z-]+)\\n(.*?)^```\\n");
  private static final Pattern LINE =
      Pattern.compile("^\\s*([0-9a-f]{2}(?: [0-9a-f]{2})*)(?:\\s{2,}(.*))?$");
  private static final Pattern ANNOTATION =
      Pattern.compile(
          "^([a-z_]+(?:\\[\\d+])?(?:\\.[a-z_0-9]+(?:\\[\\d+])?)*) = (\"(?:[^\"\\\\]|\\\\.)*\"|\\S+)");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** The session's frames in the order the page shows them. */
  static Map<String, Frame> frames() {
    Map<String, Frame> f = new LinkedHashMap<>();
    f.put("hello", hello());
    f.put("welcome", welcome());
    f.put("doc-updates", docUpdates());
    f.put("batch", batch());
    f.put(
        "ack",
        Frame.newBuilder().setAck(Ack.newBuilder().setStream("temp").setSequence(2)).build());
    f.put("heartbeat", heartbeat(HEARTBEAT_SENT_MS, false));
    f.put("heartbeat-reply", heartbeat(HEARTBEAT_ANSWERED_MS, true));
    return f;
  }

  static Frame hello() {
    return Frame.newBuilder()
        .setHello(
            Hello.newBuilder()
                .setProtocolVersion(1)
                .setDeviceId(DEVICE)
                .setAgentVersion("pydev/0.1")
                .addCheckpoints(StreamCheckpoint.newBuilder().setStream("temp").setSequence(0))
                .setStoreId(STORE_ID))
        .build();
  }

  /** What a server with the default settings answers a new device that offers no capabilities. */
  static Frame welcome() {
    ServerPolicy d = ServerPolicy.defaults();
    return Frame.newBuilder()
        .setWelcome(
            Welcome.newBuilder()
                .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
                .setServerVersion(d.serverVersion())
                .setMaxFrameBytes(d.maxFrameBytes())
                .setMaxRecordsPerBatch(d.maxRecordsPerBatch())
                .setHeartbeatIntervalMs((int) d.heartbeatIntervalMs())
                .addDocScopes("device")
                .addDocScopes("fleet"))
        .build();
  }

  static Frame docUpdates() {
    return Frame.newBuilder()
        .setDocUpdates(
            DocUpdates.newBuilder()
                .addUpdates(
                    DocUpdate.newBuilder()
                        .setScope("fleet")
                        .setCollection("config")
                        .setKey("mode")
                        .setVersion(1)
                        .setHlc(new Hlc(DOC_WRITTEN_MS, 0, "cloud").toWire())
                        .setValue(ByteString.copyFromUtf8(DOC_VALUE))))
        .build();
  }

  static Frame batch() {
    return Frame.newBuilder()
        .setBatch(
            FrameCodec.batch(
                "temp", List.of(new Record(1, T, RECORD_1), new Record(2, T + 1_000, RECORD_2))))
        .build();
  }

  static Frame heartbeat(long sentAtMs, boolean reply) {
    return Frame.newBuilder()
        .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(sentAtMs).setReply(reply))
        .build();
  }

  @Test
  void documentedBytes_areWhatTheEncoderWrites_andDecodeToTheDocumentedFields() throws Exception {
    Map<String, List<String>> doc = documentedBlocks();
    assertThat(doc.keySet())
        .as("frame blocks in docs/protocol.md")
        .containsExactlyElementsOf(frames().keySet());
    for (Map.Entry<String, Frame> e : frames().entrySet()) {
      byte[] encoded = FrameCodec.encode(e.getValue());
      byte[] documented = bytesOf(doc.get(e.getKey()));
      assertThat(dump(documented))
          .as("frame '%s' in docs/protocol.md (the encoder writes the expected side)", e.getKey())
          .isEqualTo(dump(encoded));
      Frame decoded = FrameCodec.decode(documented, ProtocolLimits.MAX_FRAME_BYTES_CEILING);
      assertThat(decoded).as(e.getKey()).isEqualTo(e.getValue());
      int checked = 0;
      for (String line : doc.get(e.getKey())) {
        checked += checkAnnotation(e.getKey(), decoded, line);
      }
      assertThat(checked).as("annotated fields of '%s'", e.getKey()).isPositive();
    }
  }

  @Test
  void aRealServer_answersTheDocumentedDeviceFramesWithTheDocumentedCloudFrames() throws Exception {
    Map<String, List<String>> doc = documentedBlocks();
    AtomicLong now = new AtomicLong(DOC_WRITTEN_MS);
    try (SyncServer server =
        SyncServer.start(
            ServerConfig.defaults(dir).withAddress("127.0.0.1", 0),
            new SqliteCloudStore(dir.resolve("edgesync-cloud.db")),
            now::get)) {
      new Rest(server).ok(new Rest(server).put("/api/v1/fleet/docs/config/mode", DOC_VALUE));
      now.set(T);
      RawClient device = RawClient.connect(server.syncUrl());
      device.send(bytesOf(doc.get("hello")));
      assertNextIs(device, doc, "welcome");
      assertNextIs(device, doc, "doc-updates");
      device.send(bytesOf(doc.get("batch")));
      assertNextIs(device, doc, "ack");
      now.set(HEARTBEAT_ANSWERED_MS);
      device.send(bytesOf(doc.get("heartbeat")));
      assertNextIs(device, doc, "heartbeat-reply");
      assertThat(server.store().read(DEVICE, "temp", 0, 10))
          .containsExactly(new Record(1, T, RECORD_1), new Record(2, T + 1_000, RECORD_2));
    }
  }

  private static void assertNextIs(RawClient device, Map<String, List<String>> doc, String name)
      throws Exception {
    byte[] received = device.frames.poll(5, TimeUnit.SECONDS);
    assertThat(received).as("a frame from the server (expected '%s')", name).isNotNull();
    assertThat(dump(received))
        .as("the server's '%s' (docs/protocol.md is the expected side)", name)
        .isEqualTo(dump(bytesOf(doc.get(name))));
  }

  /** Checks a line's {@code path = value} annotation against the decoded frame; 1 if it had one. */
  private static int checkAnnotation(String frame, Message decoded, String line)
      throws IOException {
    Matcher m = LINE.matcher(line);
    if (!m.matches() || m.group(2) == null) {
      return 0;
    }
    Matcher a = ANNOTATION.matcher(m.group(2));
    if (!a.find()) {
      return 0;
    }
    Object actual = valueAt(decoded, a.group(1));
    String expected = a.group(2);
    if (expected.startsWith("\"")) {
      expected = JSON.readValue(expected, String.class);
    }
    assertThat(render(actual)).as("%s: %s", frame, a.group(1)).isEqualTo(expected);
    return 1;
  }

  /** The value at a path such as {@code hello.checkpoints[0].stream}. */
  private static Object valueAt(Message message, String path) {
    Object at = message;
    for (String part : path.split("\\.")) {
      int bracket = part.indexOf('[');
      String name = bracket < 0 ? part : part.substring(0, bracket);
      Message m = (Message) at;
      FieldDescriptor field = m.getDescriptorForType().findFieldByName(name);
      assertThat(field)
          .as("field '%s' of %s", name, m.getDescriptorForType().getName())
          .isNotNull();
      at =
          bracket < 0
              ? m.getField(field)
              : m.getRepeatedField(
                  field, Integer.parseInt(part.substring(bracket + 1, part.length() - 1)));
    }
    return at;
  }

  private static String render(Object value) {
    if (value instanceof ByteString b) {
      return b.toStringUtf8();
    }
    if (value instanceof EnumValueDescriptor e) {
      return e.getName();
    }
    return String.valueOf(value);
  }

  /** The lines of every {@code ```frame <name>} block of docs/protocol.md, by name. */
  static Map<String, List<String>> documentedBlocks() throws IOException {
    Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    String text = Files.readString(base.resolve("../docs/protocol.md").normalize());
    Map<String, List<String>> blocks = new LinkedHashMap<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      List<String> lines = new ArrayList<>();
      for (String line : m.group(2).split("\n")) {
        if (!line.isBlank()) {
          lines.add(line);
        }
      }
      blocks.put(m.group(1), lines);
    }
    return blocks;
  }

  /** The bytes of a block: every line starts with hex bytes; two spaces start its annotation. */
  static byte[] bytesOf(List<String> lines) {
    StringBuilder hex = new StringBuilder();
    for (String line : lines) {
      Matcher m = LINE.matcher(line);
      assertThat(m.matches())
          .as("a line of hex bytes, then two spaces and a note: '%s'", line)
          .isTrue();
      hex.append(m.group(1).replace(" ", ""));
    }
    return HexFormat.of().parseHex(hex);
  }

  /** Hex, 16 bytes a line: a readable difference when a frame does not match. */
  static String dump(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < bytes.length; i += 16) {
      out.append(HexFormat.ofDelimiter(" ").formatHex(bytes, i, Math.min(bytes.length, i + 16)));
      out.append('\n');
    }
    return out.toString();
  }
}

package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Heartbeat;
import io.edgesync.protocol.wire.Welcome;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.security.TlsContexts;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The randomized adversarial suite: devices holding valid certificates of their own and API keys of
 * each role try, at random from a seeded RNG, every read, write, command and resolve path against
 * data that is not theirs, over real mTLS sockets and real REST over HTTPS with real keys. Every
 * attempt must be refused (a device's change in DocAck.refused, a command report by a non-fatal
 * NOT_AUTHORIZED, a Hello naming another device by IDENTITY_MISMATCH, a REST call by 401 or 403),
 * and what the store holds must be the same afterwards.
 *
 * <p>{@code -Dedgesync.adversarial.attempts=N} (default {@value #DEFAULT_ATTEMPTS}) and {@code
 * -Dedgesync.adversarial.seed=S} (default: the time) choose the run; the seed is printed, and
 * replays the same choices (docs/testing.md, "Adversarial suite").
 */
class AdversarialAuthorizationTest {
  static final int DEFAULT_ATTEMPTS = 4000;
  private static final Duration DAY = Duration.ofDays(1);
  private static final List<String> VICTIMS = List.of("v-north", "v-south");
  private static final List<String> COLLECTIONS = List.of("config", "notes");

  @TempDir Path dir;
  private CertificateAuthority ca;
  private SyncServer server;
  private Rest admin;
  private SSLContext trust;
  private final Map<String, Attacker> attackers = new TreeMap<>();
  private final Map<String, Rest> keys = new TreeMap<>();
  private final Map<String, Long> counts = new TreeMap<>();
  private String conflictId;
  private final List<String> victimCommands = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    ca = CertificateAuthority.init(dir.resolve("ca"), "test CA", DAY, Clock.systemUTC());
    write(ca.issueServer(List.of("localhost", "127.0.0.1"), DAY), "server");
    server =
        SyncServer.start(
            ServerConfig.fromYaml(
                    "server: {port: 0, host: 127.0.0.1, data_dir: \""
                        + dir.resolve("cloud")
                        + "\"}\n"
                        + "documents:\n"
                        + "  collections: {config: {strategy: manual}, notes: {}}\n"
                        + "  device_writable: [fleet/notes, group:*/notes]\n")
                .withTls(
                    new ServerConfig.TlsFiles(
                        dir.resolve("server.pem"),
                        dir.resolve("server.key"),
                        dir.resolve("ca").resolve("ca.pem"),
                        ca.crlFile())));
    trust = trustOnly();
    admin = new Rest(server.port(), trust, Rest.adminKey(server.adminKeyFile()));
    seedData();
  }

  @AfterEach
  void stop() throws Exception {
    for (Attacker a : attackers.values()) {
      a.close();
    }
    Testbed.closeAll(server);
  }

  /** Victims in groups north and south with documents, commands, a stream and an open conflict. */
  private void seedData() throws Exception {
    for (String v : List.of("v-north", "v-south", "a-north", "a-none")) {
      server.store().registerDevice(v, 0);
    }
    admin.ok(admin.put("/api/v1/devices/v-north/groups", "[\"north\"]"));
    admin.ok(admin.put("/api/v1/devices/a-north/groups", "[\"north\"]"));
    admin.ok(admin.put("/api/v1/devices/v-south/groups", "[\"south\"]"));
    for (String scope :
        List.of("devices/v-north", "devices/v-south", "fleet", "groups/north", "groups/south")) {
      for (String c : COLLECTIONS) {
        admin.ok(admin.put("/api/v1/" + scope + "/docs/" + c + "/k1", "{\"owner\":\"cloud\"}"));
      }
    }
    for (String v : VICTIMS) {
      victimCommands.add(
          admin
              .ok(admin.post("/api/v1/devices/" + v + "/commands", "{\"name\":\"reboot\"}"))
              .get("id")
              .asText());
    }
    // An open conflict of v-south: its own concurrent edit of config/k1 (manual strategy).
    Hlc h = new Hlc(System.currentTimeMillis(), 0, "v-south");
    server
        .documents()
        .applyEdgeChanges(
            "v-south", List.of(change(1, "device", "config", "k1", h, "{\"owner\":\"edge\"}")));
    conflictId =
        server
                .documents()
                .store()
                .conflicts(new DocumentStore.ConflictFilter("open", "v-south", null, 0, 10))
                .get(0)
                .id()
            + "";
    keys.put("viewer", key("view", "viewer", null));
    keys.put("operator", key("ops", "operator", null));
    keys.put("viewer-north", key("view-north", "viewer", "north"));
    keys.put("operator-north", key("ops-north", "operator", "north"));
    keys.put("admin-north", key("admin-north", "admin", "north"));
    Rest revoked = key("old-admin", "admin", null);
    admin.ok(admin.delete("/api/v1/keys/old-admin"));
    keys.put("revoked-admin", revoked);
    keys.put("unknown", admin.withKey("esk_" + "A".repeat(43)));
    keys.put("none", admin.withKey(null));
  }

  private Rest key(String name, String role, String group) {
    String body =
        "{\"name\":\""
            + name
            + "\",\"role\":\""
            + role
            + "\""
            + (group == null ? "" : ",\"groups\":[\"" + group + "\"]")
            + "}";
    return admin.withKey(admin.ok(admin.post("/api/v1/keys", body)).get("key").asText());
  }

  @Test
  void everyAttemptOnOthersData_isRefused_andTheStoreIsUnchanged() throws Exception {
    int attempts = Integer.getInteger("edgesync.adversarial.attempts", DEFAULT_ATTEMPTS);
    long seed = Long.getLong("edgesync.adversarial.seed", System.nanoTime());
    System.out.println(
        "adversarial suite: seed "
            + seed
            + ", "
            + attempts
            + " attempts (replay with"
            + " -Dedgesync.adversarial.seed="
            + seed
            + ")");
    SplittableRandom random = new SplittableRandom(seed);
    String before = snapshot();
    long started = System.nanoTime();
    List<String> successes = new ArrayList<>();
    for (int i = 0; i < attempts; i++) {
      String success = random.nextInt(2) == 0 ? deviceAttempt(random) : restAttempt(random);
      if (success != null) {
        successes.add("attempt " + i + ": " + success);
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf(
        "adversarial suite: seed %d, %d attempts, %d successes, %.1f s, by kind %s%n",
        seed, attempts, successes.size(), seconds, counts);
    assertThat(successes).as("attempts that were not refused (seed " + seed + ")").isEmpty();
    assertThat(snapshot()).as("the store after the run (seed " + seed + ")").isEqualTo(before);
  }

  // ---------------------------------------------------------------- devices over mTLS

  /** A device with a certificate of its own, and its open session. */
  private final class Attacker implements AutoCloseable {
    final String id;
    final SSLContext tls;
    final java.net.http.HttpClient http;
    RawClient session;
    long changeSeq;

    Attacker(String id) throws Exception {
      this.id = id;
      KeyAndCertificate k = ca.issueDevice(id, DAY);
      this.tls =
          TlsContexts.device(List.of(k.certificate()), k.privateKey(), List.of(ca.certificate()));
      this.http = java.net.http.HttpClient.newBuilder().sslContext(tls).build();
    }

    /** A new connection with this device's certificate (one HTTP client, many sockets). */
    RawClient connect() throws Exception {
      RawClient c = new RawClient();
      c.ws =
          http.newWebSocketBuilder()
              .buildAsync(java.net.URI.create(server.syncUrl()), c)
              .get(5, java.util.concurrent.TimeUnit.SECONDS);
      return c;
    }

    /** The open session, after checking what its Welcome and first pushes served. */
    RawClient session() throws Exception {
      if (session == null || session.closed.isDone()) {
        session = connect();
        session.send(Frame.newBuilder().setHello(RawClient.hello(id)));
        Welcome w = session.next().getWelcome();
        changeSeq = Math.max(changeSeq, w.getDocChangeSeq());
        List<String> readable = new ArrayList<>(List.of("device", "fleet"));
        if (id.equals("a-north")) {
          readable.add("group:north");
        }
        assertThat(w.getDocScopesList()).as("scopes %s reads", id).isEqualTo(readable);
        served(readable, session);
      }
      return session;
    }

    @Override
    public void close() {
      if (session != null) {
        session.ws.abort();
      }
    }
  }

  /** The pushes after a Welcome: only the scopes it reads, none of its commands (it has none). */
  private void served(List<String> readable, RawClient c) throws Exception {
    c.send(Frame.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSentAtMs(1)));
    for (Frame f = c.next(); !f.hasHeartbeat(); f = c.next()) {
      assertThat(f.hasCommand()).as("a command of another device: %s", f).isFalse();
      for (var u : f.getDocUpdates().getUpdatesList()) {
        assertThat(readable).as("pushed %s", u.getScope()).contains(u.getScope());
      }
    }
  }

  private Attacker attacker(SplittableRandom random) throws Exception {
    String id = random.nextBoolean() ? "a-north" : "a-none";
    Attacker a = attackers.get(id);
    if (a == null) {
      a = new Attacker(id);
      attackers.put(id, a);
    }
    return a;
  }

  /** One device attempt; returns a description if it was not refused, else null. */
  private String deviceAttempt(SplittableRandom random) throws Exception {
    Attacker a = attacker(random);
    int kind = random.nextInt(20);
    if (kind == 0) {
      return impersonate(a, VICTIMS.get(random.nextInt(VICTIMS.size())));
    }
    if (kind < 4) {
      return reportOthersCommand(a, random);
    }
    return writeOthers(a, random);
  }

  /** Hello naming a victim over the attacker's own certificate. */
  private String impersonate(Attacker a, String victim) throws Exception {
    count("device.hello-as-another");
    RawClient c = a.connect();
    try {
      c.send(Frame.newBuilder().setHello(RawClient.hello(victim)));
      Frame f = c.next();
      boolean refused =
          f.getError().getCode() == ErrorCode.IDENTITY_MISMATCH && f.getError().getFatal();
      return refused ? null : a.id + " said Hello as " + victim + ": " + f;
    } finally {
      c.ws.abort();
    }
  }

  private String reportOthersCommand(Attacker a, SplittableRandom random) throws Exception {
    count("device.report-others-command");
    String id = victimCommands.get(random.nextInt(victimCommands.size()));
    CommandState state =
        List.of(
                CommandState.COMMAND_RECEIVED,
                CommandState.COMMAND_SUCCEEDED,
                CommandState.COMMAND_FAILED,
                CommandState.COMMAND_EXPIRED)
            .get(random.nextInt(4));
    RawClient c = a.session();
    c.send(
        Frame.newBuilder()
            .setCommandStatus(
                CommandStatus.newBuilder()
                    .setId(id)
                    .setState(state)
                    .setResult(ByteString.copyFromUtf8("{\"pwned\":true}"))));
    Frame f = next(c);
    boolean refused =
        f.getError().getCode() == ErrorCode.NOT_AUTHORIZED && !f.getError().getFatal();
    return refused ? null : a.id + " reported " + state + " for " + id + ": " + f;
  }

  /** A frame of 1..4 changes to scopes the attacker may not write. */
  private String writeOthers(Attacker a, SplittableRandom random) throws Exception {
    RawClient c = a.session();
    int n = 1 + random.nextInt(4);
    Hlc h = new Hlc(System.currentTimeMillis(), 0, a.id);
    DocChanges.Builder frame = DocChanges.newBuilder();
    List<Long> seqs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String[] target = forbiddenTarget(a, random);
      count("device.write-" + target[2]);
      long seq = ++a.changeSeq;
      seqs.add(seq);
      String key = random.nextBoolean() ? "k1" : "k" + random.nextInt(5);
      frame.addChanges(
          random.nextInt(4) == 0
              ? DocChange.newBuilder()
                  .setChangeSeq(seq)
                  .setScope(target[0])
                  .setCollection(target[1])
                  .setKey(key)
                  .setHlc(h.toWire())
                  .setBaseVersion(random.nextInt(3))
                  .setDeleted(true)
                  .build()
              : change(seq, target[0], target[1], key, h, "{\"owner\":\"" + a.id + "\"}"));
    }
    c.send(Frame.newBuilder().setDocChanges(frame));
    Frame f = next(c);
    while (f.hasDocUpdates()) {
      f = next(c);
    }
    DocAck ack = f.getDocAck();
    List<Long> refused = new ArrayList<>();
    for (DocRefusal r : ack.getRefusedList()) {
      if (r.getCode() == ErrorCode.NOT_AUTHORIZED) {
        refused.add(r.getChangeSeq());
      }
    }
    return f.hasDocAck() && refused.equals(seqs)
        ? null
        : a.id + " wrote " + frame.build() + ": " + f;
  }

  /** {scope, collection, kind}: a scope or collection the attacker may not write. */
  private static String[] forbiddenTarget(Attacker a, SplittableRandom random) {
    String collection = COLLECTIONS.get(random.nextInt(COLLECTIONS.size()));
    return switch (random.nextInt(4)) {
      case 0 ->
          new String[] {
            "device:" + VICTIMS.get(random.nextInt(VICTIMS.size())), collection, "others-scope"
          };
      case 1 -> new String[] {"fleet", "config", "fleet-read-only"};
      case 2 -> new String[] {"group:south", collection, "group-not-member"};
      default ->
          a.id.equals("a-north")
              ? new String[] {"group:north", "config", "group-read-only"}
              : new String[] {"group:north", collection, "group-not-member"};
    };
  }

  /** The next frame that is not a heartbeat (answered). */
  private static Frame next(RawClient c) throws Exception {
    Frame f = c.next();
    while (f.hasHeartbeat()) {
      if (!f.getHeartbeat().getReply()) {
        c.send(Frame.newBuilder().setHeartbeat(Heartbeat.newBuilder().setReply(true)));
      }
      f = c.next();
    }
    return f;
  }

  // ---------------------------------------------------------------- REST over HTTPS

  /** One REST attempt a key's role or groups do not allow; a description if it succeeded. */
  private String restAttempt(SplittableRandom random) {
    List<String> names = new ArrayList<>(keys.keySet());
    String name = names.get(random.nextInt(names.size()));
    String[] call = forbiddenCall(name, random);
    count("rest." + name);
    Rest rest = keys.get(name);
    Rest.Reply r =
        switch (call[0]) {
          case "GET" -> rest.get(call[1]);
          case "PUT" -> rest.put(call[1], call[2]);
          case "POST" -> rest.post(call[1], call[2]);
          default -> rest.delete(call[1]);
        };
    boolean refused = r.status() == 401 || r.status() == 403;
    return refused ? null : name + " " + call[0] + " " + call[1] + " -> " + r.status();
  }

  /** {method, path, body} that key {@code name} may not call. */
  private String[] forbiddenCall(String name, SplittableRandom random) {
    boolean anyKeyFails =
        name.equals("revoked-admin") || name.equals("unknown") || name.equals("none");
    List<String[]> calls = new ArrayList<>();
    String victim = VICTIMS.get(random.nextInt(VICTIMS.size()));
    String south = "v-south";
    String c = COLLECTIONS.get(random.nextInt(COLLECTIONS.size()));
    String doc = "{\"owner\":\"" + name + "\"}";
    boolean limited = name.endsWith("-north");
    String role = name.replace("-north", "");
    // Writes: beyond a viewer; beyond a north-limited key outside north.
    List<String> writeScopes = new ArrayList<>();
    if (anyKeyFails || role.equals("viewer")) {
      writeScopes.addAll(List.of("devices/" + victim, "fleet", "groups/north", "groups/south"));
    } else if (limited) {
      writeScopes.addAll(List.of("devices/" + south, "fleet", "groups/south"));
    }
    for (String s : writeScopes) {
      calls.add(new String[] {"PUT", "/api/v1/" + s + "/docs/" + c + "/k1", doc});
      calls.add(new String[] {"DELETE", "/api/v1/" + s + "/docs/" + c + "/k1", null});
    }
    if (anyKeyFails || role.equals("viewer") || limited) {
      String target = anyKeyFails || role.equals("viewer") ? victim : south;
      calls.add(
          new String[] {"POST", "/api/v1/devices/" + target + "/commands", "{\"name\":\"wipe\"}"});
      calls.add(
          new String[] {
            "POST", "/api/v1/conflicts/" + conflictId + "/resolve", "{\"take\":\"edge\"}"
          });
    }
    // Reads: only a key without a valid identity, or one limited to north reading beyond it.
    if (anyKeyFails || limited) {
      String target = anyKeyFails ? victim : south;
      for (String path :
          List.of(
              "/api/v1/devices/" + target + "/docs/" + c,
              "/api/v1/devices/" + target + "/docs/" + c + "/k1",
              "/api/v1/devices/" + target + "/commands",
              "/api/v1/devices/" + target + "/groups",
              "/api/v1/devices/" + target + "/streams/telemetry",
              "/api/v1/groups/south/docs/" + c,
              "/api/v1/fleet/docs/" + c,
              "/api/v1/conflicts",
              "/api/v1/conflicts/" + conflictId,
              "/api/v1/commands/" + victimCommands.get(0),
              "/api/v1/audit",
              "/api/v1/devices")) {
        calls.add(new String[] {"GET", path, null});
      }
    }
    // Administration: beyond viewers and operators; beyond a limited admin across groups.
    if (!role.equals("admin") || limited || anyKeyFails) {
      calls.add(new String[] {"PUT", "/api/v1/devices/" + south + "/groups", "[\"north\"]"});
      calls.add(
          new String[] {
            "POST",
            "/api/v1/keys",
            "{\"name\":\"x" + random.nextInt(1000) + "\",\"role\":\"admin\"}"
          });
      calls.add(new String[] {"DELETE", "/api/v1/keys/admin", null});
      calls.add(new String[] {"GET", "/api/v1/keys", null});
    }
    return calls.get(random.nextInt(calls.size()));
  }

  // ---------------------------------------------------------------- the store, before and after

  /** Everything an attempt could change, read from the store and the admin API. */
  private String snapshot() throws Exception {
    StringBuilder sb = new StringBuilder();
    DocumentStore docs = server.documents().store();
    for (String scope :
        List.of(
            "device:v-north",
            "device:v-south",
            "device:a-north",
            "device:a-none",
            "fleet",
            "group:north",
            "group:south")) {
      for (DocumentStore.StoredDoc d : docs.changesAfter(scope, 0, 10_000)) {
        sb.append(scope)
            .append('/')
            .append(d.collection())
            .append('/')
            .append(d.key())
            .append(" v")
            .append(d.version())
            .append(' ')
            .append(d.value() == null ? "-" : new String(d.value(), UTF_8))
            .append('\n');
      }
    }
    CommandStore commands = server.store().commands();
    for (String v : VICTIMS) {
      for (CommandStore.StoredCommand c : commands.commands(v, 100, 0)) {
        sb.append(c.id()).append(' ').append(c.state()).append(' ').append(c.updatedMs());
        sb.append('\n');
      }
      sb.append(v).append(" groups ").append(docs.groups(v)).append('\n');
      sb.append(v).append(" streams ").append(server.store().checkpoints(v)).append('\n');
    }
    for (DocumentStore.ConflictRecord c :
        docs.conflicts(new DocumentStore.ConflictFilter(null, null, null, 0, 100))) {
      sb.append("conflict ").append(c.id()).append(' ').append(c.status()).append('\n');
    }
    sb.append("audit ")
        .append(docs.audit(new DocumentStore.AuditFilter(null, null, null, 0, 10_000)).size())
        .append('\n');
    sb.append(admin.ok(admin.get("/api/v1/keys")).toString());
    return sb.toString();
  }

  private void count(String kind) {
    counts.merge(kind, 1L, Long::sum);
  }

  private static DocChange change(
      long seq, String scope, String collection, String key, Hlc h, String json) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setScope(scope)
        .setCollection(collection)
        .setKey(key)
        .setHlc(h.toWire())
        .setValue(ByteString.copyFromUtf8(json))
        .build();
  }

  /** A client that trusts the CA but has no certificate of its own (REST over HTTPS). */
  private SSLContext trustOnly() throws Exception {
    return io.edgesync.security.TlsContexts.trusting(java.util.List.of(ca.certificate()));
  }

  private void write(KeyAndCertificate issued, String name) throws Exception {
    Pem.writeCertificates(dir.resolve(name + ".pem"), issued.certificate());
    Pem.writePrivateKey(dir.resolve(name + ".key"), issued.privateKey());
  }
}

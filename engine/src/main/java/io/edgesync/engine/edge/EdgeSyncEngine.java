package io.edgesync.engine.edge;

import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.link.DailyBudget;
import io.edgesync.engine.link.LinkEstimator;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The edge side of sync as a state machine without I/O. Inputs are method calls carrying the
 * current time ({@code nowMs}); outputs go to an {@link Io} (connect, send a frame, disconnect) and
 * to the {@link Outbox} (acknowledgements). The adapter calls {@link #onTimer} no later than {@link
 * #nextWakeupMs()}. {@code nowMs} must not step: the adapter passes monotonic time (EdgeAgent: the
 * wall clock at start advanced by {@code System.nanoTime}), since every timeout and backoff is
 * measured in it; a wall clock stepped back would stall them for the size of the step.
 *
 * <p>Not thread safe: every method must be called from one thread (the agent's sync loop, or the
 * simulator). That thread owns all fields.
 *
 * <p>Lifecycle ({@link State}): DISCONNECTED → CONNECTING → HANDSHAKING → ACTIVE, and from any of
 * them back to DISCONNECTED when the connection ends (then a jittered backoff delays the next
 * attempt); STOPPED is final.
 *
 * <p>Bandwidth ({@link BandwidthPolicy}, docs/protocol.md): record batches are encoded when sent,
 * with the codec family narrowed to what the cloud accepted in Welcome, by a fresh encoder per
 * session ({@link OutgoingBatches}). With adaptive sync the engine measures the link ({@link
 * LinkEstimator}) and picks the batch size and compression level from it, and below {@code
 * minBandwidthKbps} defers streams less important than {@code lowBandwidthMaxPriority}, probing the
 * link now and then; a daily byte budget ({@link DailyBudget}) defers streams whose share is spent.
 * Deferred streams are listed with the reason in {@link #deferredStreams()}.
 *
 * <p>Liveness (docs/protocol.md, "Heartbeats"): a session ends after {@code heartbeatTimeoutMs}
 * with nothing received and no send progress; batches are sized to fit the timeout, and a timeout
 * with batches in flight halves the next ones.
 */
public final class EdgeSyncEngine {
  /** Fine-grained lifecycle. */
  public enum State {
    DISCONNECTED,
    CONNECTING,
    HANDSHAKING,
    ACTIVE,
    STOPPED
  }

  /** Coarse status shown to users. */
  public enum Status {
    OFFLINE,
    CONNECTING,
    IDLE,
    BUSY,
    STOPPED
  }

  /** Where the engine's outputs go. Calls happen on the engine's thread and must not block. */
  public interface Io {
    /** Open a connection; the adapter answers with onConnected or onDisconnected. */
    void connect();

    void send(Frame frame);

    /** Close the current connection; the adapter answers with onDisconnected. */
    void disconnect(String reason);

    /**
     * A monotonic nanosecond ticker to measure the engine's own encoding time ({@link
     * CodecGovernor}). The default measures nothing, and batches keep the configured codec.
     */
    default long nanoTime() {
      return 0;
    }
  }

  /** What one stream's record batches (or all of them, for the device) cost on the wire. */
  public record WireStats(
      long batches,
      long records,
      long payloadBytes,
      long rawBytes,
      long encodedBytes,
      long frameBytes) {
    public static final WireStats ZERO = new WireStats(0, 0, 0, 0, 0, 0);

    /**
     * Record-layout bytes per frame byte: how many times smaller the batches were on the wire than
     * uncompressed (0 before the first batch).
     */
    public double ratio() {
      return frameBytes == 0 ? 0 : (double) rawBytes / frameBytes;
    }

    WireStats plus(WireStats o) {
      return new WireStats(
          batches + o.batches,
          records + o.records,
          payloadBytes + o.payloadBytes,
          rawBytes + o.rawBytes,
          encodedBytes + o.encodedBytes,
          frameBytes + o.frameBytes);
    }
  }

  /**
   * What the engine measured about the link and chose from it.
   *
   * @param bandwidthKbps delivery rate in kbit/s, -1 before the first measurement
   * @param srttMs smoothed round trip (batch ack or heartbeat), -1 before the first
   * @param lowBandwidth below {@code minBandwidthKbps}: less important streams are deferred
   * @param codec the codec family in use this session ({@code none}, {@code auto}, ...), or null
   *     when no session is open
   * @param accepted what the cloud accepted in Welcome (codecs and {@code batch:compact})
   * @param level the level of the stateless codecs now (COLUMNAR, ZSTD, GZIP: the ones adaptive
   *     sync raises on a slow link); the session streams keep the configured level
   * @param encoding how much of that compression batches get now, and why: {@code configured},
   *     {@code fast} (zstd level 1) or {@code none} when the encoder, not the link, held records
   *     back ({@link CodecGovernor})
   */
  public record LinkStatus(
      long bandwidthKbps,
      long srttMs,
      long minRttMs,
      boolean lowBandwidth,
      String codec,
      List<String> accepted,
      int level,
      String encoding) {}

  /** The daily byte budget: bytes allowed per UTC day, spent today, and when it starts over. */
  public record BudgetStatus(long budgetBytes, long spentBytes, long resetsAtMs) {}

  private static final long NONE = Long.MIN_VALUE;

  private final SyncPolicy policy;
  private final Outbox outbox;
  private final DocsAndCommands docs;
  private final Io io;
  private final Backoff backoff;
  private final BandwidthPolicy bandwidth;
  private final OutgoingBatches out;
  private final CodecGovernor governor;
  private final LinkEstimator link = new LinkEstimator();
  private final WireAccounting wire = new WireAccounting();
  private final BatchSizing sizing;
  private final Deferrals deferrals;

  private State state = State.DISCONNECTED;
  private long stateSinceMs;
  private long reconnectAtMs;
  private long lastReceivedMs;

  /**
   * When the transport last reported bytes of a frame written to the network ({@link
   * #onSendProgress}): while a large batch is being pushed, nothing can arrive, but the link is
   * alive as long as it takes bytes.
   */
  private long lastSendProgressMs;

  private long lastHeartbeatSentMs;

  /**
   * This session's heartbeat interval: the policy's, or the cloud's {@code
   * Welcome.heartbeat_interval_ms} if that is shorter (the cloud closes a session it hears nothing
   * from for a few of its intervals, so a longer local interval would end every quiet session).
   */
  private long heartbeatIntervalMs;

  private int maxFrameBytes = ProtocolLimits.DEFAULT_MAX_FRAME_BYTES;

  /** Next sequence to send per stream; only meaningful while ACTIVE. */
  private final Map<String, Long> nextSend = new HashMap<>();

  /** Streams that must not be sent, with the reason (e.g. the cloud is ahead of this store). */
  private final Map<String, String> blockedStreams = new LinkedHashMap<>();

  private final InFlightWindow inFlight = new InFlightWindow();

  private long heartbeatPendingSinceMs = NONE;
  private long lastNowMs;

  /** The session's codec state failed; nothing more is sent until the next session. */
  private boolean sessionBroken;

  private final FlushTriggers triggers;

  private long bytesSent;
  private long batchesSent;
  private long recordsSent;
  private long sessionsEstablished;
  private String lastError;

  public EdgeSyncEngine(SyncPolicy policy, Outbox outbox, Io io, RandomGenerator random) {
    this(policy, outbox, DocReplica.NONE, CommandInbox.NONE, io, random);
  }

  public EdgeSyncEngine(
      SyncPolicy policy,
      Outbox outbox,
      DocReplica docs,
      CommandInbox commands,
      Io io,
      RandomGenerator random) {
    this.policy = policy;
    this.outbox = outbox;
    this.docs = new DocsAndCommands(docs, commands, new Session());
    this.io = io;
    this.backoff =
        new Backoff(
            policy.backoffInitialMs(), policy.backoffMaxMs(), policy.backoffMultiplier(), random);
    this.sizing = new BatchSizing(policy, link, wire);
    this.triggers = new FlushTriggers(policy);
    this.heartbeatIntervalMs = policy.heartbeatIntervalMs();
    this.bandwidth = policy.bandwidth();
    this.out =
        new OutgoingBatches(
            bandwidth.compression(),
            bandwidth.compactEnvelope(),
            new EdgeDictionaries(outbox, bandwidth.dictionaryMaxBatchRecords()));
    this.deferrals = new Deferrals(bandwidth, link, outbox, wire, new Backlog());
    // Only `auto` lets edgesync pick the encoding; a byte budget makes every byte count.
    this.governor =
        new CodecGovernor(
            bandwidth.adaptive()
                && bandwidth.compression().choice() == CodecSettings.Choice.AUTO
                && !deferrals.budgetEnabled());
  }

  /** The engine's session, for {@link DocsAndCommands}. */
  private final class Session implements DocsAndCommands.Session {
    @Override
    public boolean active() {
      return state == State.ACTIVE;
    }

    @Override
    public int maxFrameBytes() {
      return maxFrameBytes;
    }

    @Override
    public void send(Frame frame) {
      EdgeSyncEngine.this.send(frame);
    }

    @Override
    public void violation(String message) {
      EdgeSyncEngine.this.violation(message);
    }
  }

  /** The engine's view of each stream's backlog, for {@link Deferrals}. */
  private final class Backlog implements Deferrals.Backlog {
    @Override
    public boolean blocked(String stream) {
      return blockedStreams.containsKey(stream);
    }

    @Override
    public long unsentRecords(Outbox.StreamState s) {
      return unsentOf(s);
    }

    @Override
    public long unsentPayloadBytes(Outbox.StreamState s) {
      return EdgeSyncEngine.this.unsentPayloadBytes(s);
    }
  }

  // ---------------------------------------------------------------- inputs

  /** Starts the engine: connects at once. */
  public void start(long nowMs) {
    lastNowMs = nowMs;
    reconnectAtMs = nowMs;
    stateSinceMs = nowMs;
    wire.load(outbox.savedWireStats());
    deferrals.restoreBudget(nowMs);
    triggers.start(nowMs, unsentRecords() > 0);
    onTimer(nowMs);
  }

  public void onTimer(long nowMs) {
    lastNowMs = nowMs;
    switch (state) {
      case DISCONNECTED -> {
        if (nowMs >= reconnectAtMs) {
          transition(State.CONNECTING, nowMs);
          io.connect();
        }
      }
      case CONNECTING -> {
        if (nowMs - stateSinceMs >= policy.connectTimeoutMs()) {
          io.disconnect("connect timed out after " + policy.connectTimeoutMs() + " ms");
        }
      }
      case HANDSHAKING -> {
        if (nowMs - stateSinceMs >= policy.handshakeTimeoutMs()) {
          io.disconnect("no Welcome within " + policy.handshakeTimeoutMs() + " ms");
        }
      }
      case ACTIVE -> {
        if (nowMs - lastAliveMs() >= policy.heartbeatTimeoutMs()) {
          sizing.onLivenessTimeout(inFlight.largestPayloadBytes());
          io.disconnect(
              "nothing received for "
                  + (nowMs - lastReceivedMs)
                  + " ms"
                  + (lastSendProgressMs > lastReceivedMs
                      ? ", no bytes sent for " + (nowMs - lastSendProgressMs) + " ms"
                      : ""));
          return;
        }
        if (nowMs - lastHeartbeatSentMs >= heartbeatIntervalMs) {
          sendHeartbeat(nowMs, false);
        }
      }
      case STOPPED -> {
        return;
      }
    }
    if (triggers.scheduleDue(nowMs) && unsentRecords() > 0) {
      triggers.request();
    }
    evaluateTriggers(nowMs);
    pump(nowMs);
  }

  public void onConnected(long nowMs) {
    lastNowMs = nowMs;
    if (state != State.CONNECTING) {
      return;
    }
    transition(State.HANDSHAKING, nowMs);
    lastReceivedMs = nowMs;
    lastSendProgressMs = nowMs;
    Hello.Builder hello =
        Hello.newBuilder()
            .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
            .setDeviceId(policy.deviceId())
            .setAgentVersion(policy.agentVersion())
            .setStoreId(outbox.storeId())
            .addAllCapabilities(out.offer())
            .addAllDictionaryIds(out.dictionaries().heldIds());
    for (Outbox.StreamState s : outbox.streams()) {
      hello.addCheckpoints(
          StreamCheckpoint.newBuilder().setStream(s.name()).setSequence(s.ackedSequence()));
    }
    for (Map.Entry<String, Long> c : docs.docCursors().entrySet()) {
      hello.addDocCursors(ScopeCursor.newBuilder().setScope(c.getKey()).setVersion(c.getValue()));
    }
    send(Frame.newBuilder().setHello(hello).build());
  }

  public void onDisconnected(long nowMs, String reason) {
    lastNowMs = nowMs;
    if (state == State.STOPPED || state == State.DISCONNECTED) {
      return;
    }
    lastError = reason;
    transition(State.DISCONNECTED, nowMs);
    reconnectAtMs = nowMs + backoff.nextDelayMs();
    nextSend.clear();
    inFlight.clear();
    docs.endSession();
    out.endSession();
    heartbeatPendingSinceMs = NONE;
  }

  public void onFrame(long nowMs, Frame frame) {
    lastNowMs = nowMs;
    if (state != State.HANDSHAKING && state != State.ACTIVE) {
      return;
    }
    lastReceivedMs = nowMs;
    switch (frame.getBodyCase()) {
      case WELCOME -> onWelcome(nowMs, frame.getWelcome());
      case ACK -> onAck(nowMs, frame.getAck());
      case DOC_UPDATES -> {
        if (requireActive("DocUpdates")) {
          docs.onDocUpdates(frame.getDocUpdates().getUpdatesList());
        }
      }
      case DOC_ACK -> onDocAck(frame.getDocAck());
      case DICTIONARY -> {
        if (requireActive("StreamDictionary")) {
          try {
            out.dictionaries().onReceived(frame.getDictionary());
          } catch (RuntimeException e) {
            violation("invalid StreamDictionary: " + e.getMessage());
          }
        }
      }
      case COMMAND -> {
        if (requireActive("Command")) {
          docs.onCommand(frame.getCommand(), nowMs);
        }
      }
      case COMMAND_STATUS -> {
        if (requireActive("CommandStatus")) {
          docs.onCommandStatus(frame.getCommandStatus());
        }
      }
      case HEARTBEAT -> {
        if (!frame.getHeartbeat().getReply()) {
          sendHeartbeat(nowMs, true);
        } else if (heartbeatPendingSinceMs != NONE) {
          link.onHeartbeatReply(nowMs, heartbeatPendingSinceMs);
          heartbeatPendingSinceMs = NONE;
        }
      }
      case ERROR -> {
        lastError = frame.getError().getCode() + ": " + frame.getError().getMessage();
        if (frame.getError().getFatal()) {
          io.disconnect("cloud reported " + lastError);
        }
      }
      default -> violation("unexpected " + frame.getBodyCase() + " frame from the cloud");
    }
  }

  /**
   * The transport wrote more bytes of a large frame to the network (a fragment; see {@link
   * io.edgesync.protocol.Transport.Listener#onSendProgress}). Counts as liveness like a received
   * frame, so a batch that takes longer than {@code heartbeatTimeoutMs} to transmit does not end
   * its session; a link that takes no bytes and returns nothing still times out. Counted only while
   * batches or document changes await their acknowledgement.
   */
  public void onSendProgress(long nowMs) {
    lastNowMs = nowMs;
    // Only while something awaits its answer: progress with nothing in flight proves nothing the
    // session needs (and socket buffers take small frames even on a dead link).
    if (state == State.ACTIVE && (!inFlight.isEmpty() || docs.docsInFlight())) {
      lastSendProgressMs = Math.max(lastSendProgressMs, nowMs);
    }
  }

  /** New records were appended to {@code stream}. */
  public void onAppended(long nowMs) {
    lastNowMs = nowMs;
    triggers.onAppended(nowMs);
    evaluateTriggers(nowMs);
    pump(nowMs);
  }

  /** A local document write: send it now (documents are not batched; they are few and small). */
  public void onDocChanged(long nowMs) {
    lastNowMs = nowMs;
    docs.pumpDocs();
  }

  /** A command finished locally: report its status now if connected (else after reconnecting). */
  public void onCommandFinished(long nowMs) {
    lastNowMs = nowMs;
    if (state == State.ACTIVE) {
      docs.sendUnconfirmedStatuses();
    }
  }

  /**
   * On-demand sync: flush now, and skip the backoff wait if disconnected. On a slow link it also
   * probes the link at once; it does not override the daily budget.
   */
  public void requestSync(long nowMs) {
    lastNowMs = nowMs;
    deferrals.probeNow(nowMs);
    refreshDeferrals(nowMs);
    if (unsentRecords() > 0) {
      triggers.request();
    }
    if (state == State.DISCONNECTED) {
      reconnectAtMs = nowMs;
      onTimer(nowMs);
    } else {
      pump(nowMs);
    }
  }

  public void stop() {
    if (state != State.STOPPED) {
      State previous = state;
      state = State.STOPPED;
      if (previous != State.DISCONNECTED) {
        io.disconnect("agent stopping");
      }
      out.endSession();
      deferrals.saveBudgetNow(lastNowMs);
      Map<String, WireStats> unsaved = wire.takeAllUnsaved();
      if (!unsaved.isEmpty()) {
        outbox.saveWireStats(unsaved);
      }
    }
  }

  // ---------------------------------------------------------------- outputs and queries

  /** The time by which {@link #onTimer} must be called next. */
  public long nextWakeupMs() {
    long t =
        switch (state) {
          case DISCONNECTED -> reconnectAtMs;
          case CONNECTING -> stateSinceMs + policy.connectTimeoutMs();
          case HANDSHAKING -> stateSinceMs + policy.handshakeTimeoutMs();
          case ACTIVE ->
              Math.min(
                  lastAliveMs() + policy.heartbeatTimeoutMs(),
                  lastHeartbeatSentMs + heartbeatIntervalMs);
          case STOPPED -> Long.MAX_VALUE;
        };
    if (state == State.STOPPED) {
      return t;
    }
    t = triggers.wakeupMs(t, state == State.ACTIVE, this::unsentRecords);
    if (state == State.ACTIVE && deferrals.wakeMs() != NONE) {
      // A probe of a slow link, or the budget's reset at midnight UTC.
      t = Math.min(t, deferrals.wakeMs());
    }
    return t;
  }

  public State state() {
    return state;
  }

  public Status status() {
    return switch (state) {
      case DISCONNECTED -> Status.OFFLINE;
      case CONNECTING, HANDSHAKING -> Status.CONNECTING;
      case ACTIVE -> inFlight.isEmpty() && !triggers.requested() ? Status.IDLE : Status.BUSY;
      case STOPPED -> Status.STOPPED;
    };
  }

  /**
   * The next sequence this session will send for {@code stream}, or -1 when no session is active.
   * Sequences between the acked one and this are in flight.
   */
  public long nextSendSequence(String stream) {
    Long next = nextSend.get(stream);
    return state == State.ACTIVE && next != null ? next : -1;
  }

  public long bytesSent() {
    return bytesSent;
  }

  public long batchesSent() {
    return batchesSent;
  }

  public long recordsSent() {
    return recordsSent;
  }

  public long sessionsEstablished() {
    return sessionsEstablished;
  }

  public String lastError() {
    return lastError;
  }

  public Map<String, String> blockedStreams() {
    return Map.copyOf(blockedStreams);
  }

  public int inFlightBatches() {
    return inFlight.size();
  }

  /**
   * What each stream's record batches cost on the wire since the outbox was created (the totals are
   * kept in it across restarts; see {@link Outbox#acknowledge(String, long, WireStats)}).
   */
  public Map<String, WireStats> wireStats() {
    return wire.all();
  }

  /** The sum of {@link #wireStats()} over every stream: the device's record batches. */
  public WireStats wireTotals() {
    WireStats t = WireStats.ZERO;
    for (WireStats w : wireStats().values()) {
      t = t.plus(w);
    }
    return t;
  }

  /** Streams that have records to send but are held back now, with the reason. */
  public Map<String, String> deferredStreams() {
    return deferrals.texts();
  }

  /** What adaptive sync measured, and the codec and level in use. */
  public LinkStatus linkStatus() {
    CodecSettings c = out.effective();
    List<String> accepted = new ArrayList<>();
    if (c != null) {
      for (Codec codec : out.accepted()) {
        if (codec != Codec.NONE) {
          accepted.add(CodecCapabilities.of(codec));
        }
      }
      if (out.compact()) {
        accepted.add(CodecCapabilities.COMPACT_BATCH);
      }
    }
    return new LinkStatus(
        link.bandwidthKbps(lastNowMs),
        link.srttMs(),
        link.minRttMs(lastNowMs),
        deferrals.lowBandwidth(),
        c == null ? null : c.choice().name().toLowerCase(Locale.ROOT),
        List.copyOf(accepted),
        out.level(),
        governor.describe());
  }

  /** The trained dictionary id the edge holds per stream (the newest the cloud shipped). */
  public Map<String, Integer> dictionaries() {
    return out.dictionaries().held();
  }

  /** The daily byte budget, or null when none is configured. */
  public BudgetStatus budgetStatus() {
    return deferrals.budgetStatus(lastNowMs);
  }

  // ---------------------------------------------------------------- internals

  private void onWelcome(long nowMs, Welcome welcome) {
    if (state != State.HANDSHAKING) {
      violation("Welcome after the handshake");
      return;
    }
    if (welcome.getProtocolVersion() != ProtocolLimits.PROTOCOL_VERSION) {
      io.disconnect(
          "cloud speaks protocol version "
              + welcome.getProtocolVersion()
              + ", this agent "
              + ProtocolLimits.PROTOCOL_VERSION);
      return;
    }
    try {
      EdgeDictionaries.validate(welcome);
    } catch (RuntimeException e) {
      violation("invalid dictionary in Welcome: " + e.getMessage());
      return;
    }
    applyLimits(welcome);
    resumeStreams(welcome);
    transition(State.ACTIVE, nowMs);
    lastHeartbeatSentMs = nowMs;
    backoff.reset();
    sessionsEstablished++;
    out.startSession(welcome.getCapabilitiesList());
    governor.reset(out.accepted().contains(Codec.ZSTD));
    out.dictionaries().startSession(welcome);
    sessionBroken = false;
    if (unsentRecords() > 0) {
      triggers.request();
    }
    docs.onWelcome(welcome);
    pump(nowMs);
  }

  /** The session's frame size, heartbeat interval and batch size: ours, or the cloud's if lower. */
  private void applyLimits(Welcome welcome) {
    if (welcome.getMaxFrameBytes() > 0) {
      maxFrameBytes = Math.min(welcome.getMaxFrameBytes(), ProtocolLimits.MAX_FRAME_BYTES_CEILING);
    }
    heartbeatIntervalMs =
        welcome.getHeartbeatIntervalMs() > 0
            ? Math.min(policy.heartbeatIntervalMs(), welcome.getHeartbeatIntervalMs())
            : policy.heartbeatIntervalMs();
    sizing.onWelcome(welcome.getMaxRecordsPerBatch());
  }

  /**
   * Each stream continues after the cloud's checkpoint; a stream whose checkpoint is beyond
   * anything this store appended is blocked.
   */
  private void resumeStreams(Welcome welcome) {
    Map<String, Long> checkpoints = new HashMap<>();
    for (StreamCheckpoint cp : welcome.getCheckpointsList()) {
      checkpoints.put(cp.getStream(), cp.getSequence());
    }
    blockedStreams.clear();
    for (Outbox.StreamState s : outbox.streams()) {
      long cloud = checkpoints.getOrDefault(s.name(), 0L);
      if (cloud > s.lastSequence()) {
        blockedStreams.put(
            s.name(),
            "the cloud holds sequence "
                + cloud
                + " of stream '"
                + s.name()
                + "' but this store only reached "
                + s.lastSequence()
                + " (was the local store reset?); not sending to avoid silent duplicates");
        continue;
      }
      if (cloud < s.ackedSequence()) {
        outbox.markNotRetained(s.name(), cloud);
      } else if (cloud > s.ackedSequence()) {
        outbox.acknowledge(s.name(), cloud);
      }
      nextSend.put(s.name(), cloud + 1);
    }
    if (!blockedStreams.isEmpty()) {
      lastError = blockedStreams.values().iterator().next();
    }
  }

  /** The last sign of life of the connection: a frame received or bytes sent. */
  private long lastAliveMs() {
    return Math.max(lastReceivedMs, lastSendProgressMs);
  }

  private boolean requireActive(String what) {
    if (state != State.ACTIVE) {
      violation(what + " before the handshake completed");
      return false;
    }
    return true;
  }

  private void onDocAck(DocAck ack) {
    if (requireActive("DocAck")) {
      docs.onDocAck(ack);
    }
  }

  private void onAck(long nowMs, Ack ack) {
    if (state != State.ACTIVE) {
      violation("Ack before the handshake completed");
      return;
    }
    Long next = nextSend.get(ack.getStream());
    long last = -1;
    for (Outbox.StreamState s : outbox.streams()) {
      if (s.name().equals(ack.getStream())) {
        last = s.lastSequence();
      }
    }
    if (next == null || ack.getSequence() > last) {
      violation(
          "Ack for "
              + ack.getStream()
              + " up to "
              + ack.getSequence()
              + " which is beyond anything appended");
      return;
    }
    if (ack.getSequence() >= next) {
      // The cloud committed more than this session sent: an earlier session's batches landed
      // after our Welcome. The cloud is authoritative; continue after what it holds.
      nextSend.put(ack.getStream(), ack.getSequence() + 1);
    }
    if (wire.takeUnsaved(ack.getStream())) {
      outbox.acknowledge(ack.getStream(), ack.getSequence(), wire.stats(ack.getStream()));
    } else {
      outbox.acknowledge(ack.getStream(), ack.getSequence());
    }
    inFlight.acknowledge(ack.getStream(), ack.getSequence(), nowMs, link);
    sizing.onAck();
    adapt(nowMs);
    pump(nowMs);
  }

  private void evaluateTriggers(long nowMs) {
    refreshDeferrals(nowMs);
    triggers.evaluate(nowMs, this::unsentRecords, this::unsentBytes);
  }

  /** Sends batches while a flush is requested (or a probe is due) and the window has room. */
  private void pump(long nowMs) {
    lastNowMs = nowMs;
    if (state != State.ACTIVE || sessionBroken) {
      return;
    }
    refreshDeferrals(nowMs);
    if (deferrals.startProbeIfDue(nowMs)) {
      // One batch of a deferred stream measures the link again (see LinkEstimator).
      triggers.request();
    }
    if (!triggers.requested()) {
      return;
    }
    try {
      while (inFlight.size() < policy.maxInFlightBatches()
          && inFlight.payloadBytes() < policy.maxInFlightBytes()) {
        if (!sendNext(nowMs)) {
          governor.onPumpEnd(true);
          triggers.ranDry();
          // Ran dry: what is in flight now measures our own pace, not the link's.
          inFlight.markAppLimited();
          return;
        }
      }
      governor.onPumpEnd(false);
    } finally {
      deferrals.endProbe();
      refreshDeferrals(nowMs);
    }
  }

  /** Recomputes which streams are held back; a stream released sends its backlog now. */
  private void refreshDeferrals(long nowMs) {
    if (deferrals.refresh(nowMs)) {
      triggers.request();
    }
  }

  /** After acks: the compression level for the measured link (adaptive sync). */
  private void adapt(long nowMs) {
    if (!bandwidth.adaptive()) {
      return;
    }
    long kbps = link.bandwidthKbps(nowMs);
    if (kbps >= 0) {
      out.setLevel(BatchSizing.levelFor(bandwidth.compression(), kbps));
    }
  }

  /** Sends the next batch or gap of the first stream that has one to send; false if none. */
  private boolean sendNext(long nowMs) {
    for (Outbox.StreamState s : outbox.streams()) {
      Long next = nextSendOf(s);
      if (next == null || next > s.lastSequence()) {
        continue;
      }
      boolean probe = false;
      if (deferrals.isDeferred(s.name())) {
        if (!deferrals.mayProbe(s.name())) {
          continue;
        }
        probe = true;
      }
      int records = sizing.records(s.name(), nowMs);
      long maxBytes = deferrals.budgetCap(nowMs, s, sizing.maxPayloadBytes(records, maxFrameBytes));
      if (maxBytes < 0) {
        continue;
      }
      Outbox.Item item = outbox.read(s.name(), next, records, maxBytes);
      if (item == null) {
        continue;
      }
      if (item.firstSequence() != next) {
        blockOutOfOrder(s.name(), item.firstSequence(), next);
        continue;
      }
      Frame frame =
          item instanceof Outbox.Item.Records r
              ? encodeBatch(nowMs, s.name(), r)
              : gapFrame(s.name(), (Outbox.Item.Gap) item);
      if (frame == null) {
        return false; // the session failed
      }
      sent(nowMs, s.name(), item, frame, probe);
      return true;
    }
    return false;
  }

  /**
   * The next sequence to send of the stream, or null if the stream is blocked. A stream that
   * appeared after the handshake starts after its acked sequence: the cloud has nothing of it yet.
   */
  private Long nextSendOf(Outbox.StreamState s) {
    Long next = nextSend.get(s.name());
    if (next == null && !blockedStreams.containsKey(s.name())) {
      next = s.ackedSequence() + 1;
      nextSend.put(s.name(), next);
    }
    return next;
  }

  private void blockOutOfOrder(String stream, long got, long expected) {
    blockedStreams.put(
        stream,
        "outbox returned sequence "
            + got
            + " when "
            + expected
            + " was expected for stream '"
            + stream
            + "'");
    lastError = blockedStreams.get(stream);
  }

  /**
   * Encodes a record batch and counts it in the wire totals; null (and the session ends) when
   * encoding failed or the frame came out above the frame limit.
   */
  private Frame encodeBatch(long nowMs, String stream, Outbox.Item.Records r) {
    OutgoingBatches.Encoded e;
    try {
      CodecGovernor.Rung rung = governor.rung(nowMs);
      long t0 = io.nanoTime();
      e = out.encode(stream, r.records(), rung);
      governor.onEncoded(rung, e.rawBytes(), io.nanoTime() - t0);
    } catch (RuntimeException ex) {
      sessionFailed("encoding a batch of stream '" + stream + "' failed: " + ex);
      return null;
    }
    Frame frame = Frame.newBuilder().setBatch(e.batch()).build();
    int size = frame.getSerializedSize() + FrameCodec.TRAILER_BYTES;
    if (size > maxFrameBytes) {
      sizing.onAboveFrameLimit(stream, r.records().size());
      sessionFailed(
          "a batch of "
              + r.records().size()
              + " records of stream '"
              + stream
              + "' encoded to "
              + size
              + " bytes, above the frame limit of "
              + maxFrameBytes);
      return null;
    }
    wire.onBatch(
        stream, r.records().size(), r.payloadBytes(), e.rawBytes(), e.payloadBytes(), size);
    return frame;
  }

  private Frame gapFrame(String stream, Outbox.Item.Gap g) {
    Frame frame =
        Frame.newBuilder()
            .setGap(
                Gap.newBuilder()
                    .setStream(stream)
                    .setFirstSequence(g.firstSequence())
                    .setLastSequence(g.lastSequence())
                    .setReason(g.reason())
                    .setDroppedAtMs(g.droppedAtMs()))
            .build();
    out.onGapSent(stream, g.lastSequence());
    return frame;
  }

  /** Sends the frame of {@code item} and tracks it in flight until its ack. */
  private void sent(long nowMs, String stream, Outbox.Item item, Frame frame, boolean probe) {
    long payloadBytes = 0;
    long count = 0;
    if (item instanceof Outbox.Item.Records r) {
      payloadBytes = r.payloadBytes();
      count = r.records().size();
    }
    LinkEstimator.Send sample = link.onSend(nowMs, frame.getSerializedSize(), inFlight.isEmpty());
    send(frame, stream);
    batchesSent++;
    recordsSent += count;
    inFlight.add(stream, item.lastSequence(), payloadBytes, sample, probe);
    nextSend.put(stream, item.lastSequence() + 1);
    if (probe) {
      deferrals.endProbe(); // one batch measures the link
    }
  }

  /** The session's codec state is unusable: end the session (the next one starts fresh). */
  private boolean sessionFailed(String message) {
    sessionBroken = true;
    lastError = message;
    io.disconnect(message);
    return false;
  }

  private void sendHeartbeat(long nowMs, boolean reply) {
    lastHeartbeatSentMs = nowMs;
    if (!reply && heartbeatPendingSinceMs == NONE) {
      heartbeatPendingSinceMs = nowMs;
    }
    send(Frames.heartbeat(nowMs, reply));
  }

  private void send(Frame frame) {
    send(frame, null);
  }

  private void send(Frame frame, String stream) {
    int size = frame.getSerializedSize() + FrameCodec.TRAILER_BYTES; // as on the wire
    bytesSent += size;
    deferrals.onSent(lastNowMs, stream, size);
    io.send(frame);
  }

  private void violation(String message) {
    lastError = message;
    send(Frames.error(ErrorCode.PROTOCOL_VIOLATION, message, true));
    io.disconnect(message);
  }

  private void transition(State to, long nowMs) {
    state = to;
    stateSinceMs = nowMs;
  }

  /**
   * Records appended but not yet sent in this session (or not acked, when offline), of streams that
   * are neither blocked nor deferred.
   */
  private long unsentRecords() {
    long total = 0;
    for (Outbox.StreamState s : outbox.streams()) {
      if (!blockedStreams.containsKey(s.name()) && !deferrals.isDeferred(s.name())) {
        total += unsentOf(s);
      }
    }
    return total;
  }

  private long unsentOf(Outbox.StreamState s) {
    Long next = state == State.ACTIVE ? nextSend.get(s.name()) : null;
    long sentUpTo = next != null ? next - 1 : s.ackedSequence();
    if (sentUpTo > s.lastSequence()) {
      // Every source of nextSend (Welcome, Ack, a batch read) is checked against lastSequence.
      throw new IllegalStateException(
          "invariant broken: stream '"
              + s.name()
              + "' counted as sent up to "
              + sentUpTo
              + ", beyond its last sequence "
              + s.lastSequence());
    }
    return s.lastSequence() - sentUpTo;
  }

  /** Payload bytes queued and not in flight, of streams neither blocked nor deferred. */
  private long unsentBytes() {
    long queued = 0;
    for (Outbox.StreamState s : outbox.streams()) {
      if (!blockedStreams.containsKey(s.name()) && !deferrals.isDeferred(s.name())) {
        queued += unsentPayloadBytes(s);
      }
    }
    return queued;
  }

  private long unsentPayloadBytes(Outbox.StreamState s) {
    // Not an invariant: records in flight may leave the outbox (dropped on overflow or expired)
    // before their ack, and then queuedBytes falls below what is in flight.
    return Math.max(0, s.queuedBytes() - inFlight.payloadBytesOf(s.name()));
  }
}

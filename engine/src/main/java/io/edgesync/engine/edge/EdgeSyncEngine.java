package io.edgesync.engine.edge;

import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileLink;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.link.DailyBudget;
import io.edgesync.engine.link.LinkEstimator;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.StreamDictionary;
import io.edgesync.protocol.wire.Welcome;
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
 *
 * <p>This class holds the lifecycle and routes inputs; each concern is a package-private part
 * beside it (docs/architecture.md): {@link Handshake}, {@link Liveness}, {@link SendPositions},
 * {@link BatchPump}, {@link FlushTriggers}, {@link Deferrals}, {@link BatchSizing}, {@link
 * InFlightWindow}, {@link WireAccounting}, {@link DocsAndCommands}, {@link StatusReports}.
 *
 * <p>Device status (docs/protocol.md, "Device status"): with a {@link StatusSource} ({@link
 * #withStatus}) the engine offers the capability {@code status} and, in sessions that accept it,
 * reports a full status after Welcome and a delta every {@code statusIntervalMs} at most.
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

  /** Downloads and uploads, when the device has files; null otherwise. */
  private EdgeFiles files;

  /** Status reports over the session, when the adapter gave a source; null otherwise. */
  private StatusReports status;

  private long lastAckAtMs = -1;

  private final SyncPolicy policy;
  private final Outbox outbox;
  private final DocsAndCommands docs;
  private final Io io;
  private final Backoff backoff;
  private final RetryLater retryLater;
  private final OutgoingBatches out;
  private final CodecGovernor governor;
  private final LinkEstimator link = new LinkEstimator();
  private final WireAccounting wire = new WireAccounting();
  private final BatchSizing sizing;
  private final Deferrals deferrals;

  private final InFlightWindow inFlight = new InFlightWindow();
  private final SendPositions positions;
  private final Liveness liveness;
  private final BatchPump batches;

  private State state = State.DISCONNECTED;
  private long stateSinceMs;
  private long reconnectAtMs;
  private int maxFrameBytes = ProtocolLimits.DEFAULT_MAX_FRAME_BYTES;
  private long lastNowMs;

  /** The session's codec state failed; nothing more is sent until the next session. */
  private boolean sessionBroken;

  private final FlushTriggers triggers;

  private long bytesSent;
  private long sessionsEstablished;
  private String lastError;
  private String lastServerError = "";

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
    Session session = new Session();
    this.docs = new DocsAndCommands(docs, commands, session);
    this.io = io;
    this.backoff =
        new Backoff(
            policy.backoffInitialMs(), policy.backoffMaxMs(), policy.backoffMultiplier(), random);
    this.retryLater = new RetryLater(random);
    this.sizing = new BatchSizing(policy, link, wire);
    this.triggers = new FlushTriggers(policy);
    this.liveness = new Liveness(policy);
    this.positions = new SendPositions(outbox, inFlight, () -> state == State.ACTIVE);
    BandwidthPolicy bandwidth = policy.bandwidth();
    this.out =
        new OutgoingBatches(
            bandwidth.compression(),
            bandwidth.compactEnvelope(),
            new EdgeDictionaries(outbox, bandwidth.dictionaryMaxBatchRecords()));
    this.deferrals = new Deferrals(bandwidth, link, outbox, wire, positions);
    // Only `auto` lets edgesync pick the encoding; a byte budget makes every byte count.
    this.governor =
        new CodecGovernor(
            bandwidth.adaptive()
                && bandwidth.compression().choice() == CodecSettings.Choice.AUTO
                && !deferrals.budgetEnabled());
    this.batches =
        new BatchPump(
            policy, outbox, positions, inFlight, deferrals, triggers, sizing, out, governor, wire,
            link, session);
  }

  /** The engine's session, for {@link DocsAndCommands} and {@link BatchPump}. */
  private final class Session implements DocsAndCommands.Session, BatchPump.Session {
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

    @Override
    public void send(Frame frame, String stream) {
      EdgeSyncEngine.this.send(frame, stream);
    }

    @Override
    public void blocked(String reason) {
      lastError = reason;
    }

    @Override
    public void failed(String reason) {
      sessionFailed(reason);
    }

    @Override
    public long nanoTime() {
      return io.nanoTime();
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
    if (status != null) {
      status.onOffline(nowMs);
    }
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
        if (liveness.timedOut(nowMs)) {
          sizing.onLivenessTimeout(inFlight.largestPayloadBytes());
          io.disconnect(liveness.timeoutReason(nowMs));
          return;
        }
        if (liveness.heartbeatDue(nowMs)) {
          send(liveness.heartbeat(nowMs, false));
        }
        if (status != null && status.due(nowMs)) {
          send(status.report(nowMs));
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
    retryLater.clear();
    liveness.onConnected(nowMs);
    Frame hello = Handshake.hello(policy, outbox, out, docs);
    if (files != null) {
      hello =
          hello.toBuilder()
              .setHello(hello.getHello().toBuilder().addCapabilities(EdgeFiles.CAPABILITY))
              .build();
    }
    if (status != null) {
      hello =
          hello.toBuilder()
              .setHello(hello.getHello().toBuilder().addCapabilities(StatusReports.CAPABILITY))
              .build();
    }
    send(hello);
  }

  public void onDisconnected(long nowMs, String reason) {
    lastNowMs = nowMs;
    if (state == State.STOPPED || state == State.DISCONNECTED) {
      return;
    }
    lastError = reason;
    transition(State.DISCONNECTED, nowMs);
    long retryAfterMs = retryLater.takeDelayMs();
    if (retryAfterMs >= 0) {
      lastError = RetryLater.describe(retryAfterMs, lastServerError);
      reconnectAtMs = nowMs + retryAfterMs;
    } else {
      reconnectAtMs = nowMs + backoff.nextDelayMs();
    }
    if (status != null) {
      status.onSessionLost(nowMs, inFlight.size());
    }
    positions.clear();
    inFlight.clear();
    docs.endSession();
    out.endSession();
    liveness.endSession();
    if (files != null) {
      files.onClose();
    }
  }

  public void onFrame(long nowMs, Frame frame) {
    lastNowMs = nowMs;
    if (state != State.HANDSHAKING && state != State.ACTIVE) {
      return;
    }
    liveness.onReceived(nowMs);
    switch (frame.getBodyCase()) {
      case WELCOME -> onWelcome(nowMs, frame.getWelcome());
      case ACK -> whenActive("Ack", () -> onAck(nowMs, frame.getAck()));
      case DOC_UPDATES ->
          whenActive("DocUpdates", () -> docs.onDocUpdates(frame.getDocUpdates().getUpdatesList()));
      case DOC_ACK -> whenActive("DocAck", () -> docs.onDocAck(frame.getDocAck()));
      case DICTIONARY -> whenActive("StreamDictionary", () -> onDictionary(frame.getDictionary()));
      case COMMAND -> whenActive("Command", () -> docs.onCommand(frame.getCommand(), nowMs));
      case COMMAND_STATUS ->
          whenActive("CommandStatus", () -> docs.onCommandStatus(frame.getCommandStatus()));
      case HEARTBEAT -> {
        if (!frame.getHeartbeat().getReply()) {
          send(liveness.heartbeat(nowMs, true));
        } else {
          liveness.onHeartbeatReply(nowMs, link);
        }
      }
      case ERROR -> {
        lastError = frame.getError().getCode() + ": " + frame.getError().getMessage();
        lastServerError = frame.getError().getMessage();
        retryLater.onError(frame.getError());
        if (frame.getError().getFatal()) {
          io.disconnect("cloud reported " + lastError);
        }
      }
      case FILE_OFFER, FILE_DATA, FILE_REQUEST, FILE_REPORT ->
          whenActive(
              frame.getBodyCase().name(),
              () -> {
                if (files == null || !files.isOpen()) {
                  violation(frame.getBodyCase() + " in a session without files");
                } else {
                  if (frame.hasFileData()) { // downloads are metered too
                    deferrals.onSent(
                        nowMs, null, frame.getSerializedSize() + FrameCodec.TRAILER_BYTES);
                  }
                  files.onFrame(nowMs, frame);
                  pump(nowMs);
                }
              });
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
      liveness.onSendProgress(nowMs);
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

  /**
   * Reports the device's status over its sessions (DeviceStatus, docs/protocol.md "Device status")
   * from {@code source}, every {@link SyncPolicy#statusIntervalMs()} at most, to clouds that accept
   * it; a policy with interval 0 reports nothing. Call before {@link #start}.
   */
  public EdgeSyncEngine withStatus(StatusSource source) {
    if (policy.statusIntervalMs() > 0) {
      this.status =
          new StatusReports(source, policy.statusIntervalMs(), wire::total, docs::docCursors);
    }
    return this;
  }

  /**
   * File transfers of this device: its downloads (installed as they complete) and its uploads. Call
   * before {@link #start}.
   */
  public EdgeSyncEngine withFiles(FileInbox inbox, FileOutbox outbox) {
    return withFiles(inbox, outbox, () -> {});
  }

  /**
   * As {@link #withFiles(FileInbox, FileOutbox)}, with {@code wakeup} called (on the assembling
   * thread) when a download's assembly ended: the adapter then calls {@link #onFilesChanged} on the
   * engine's thread.
   */
  public EdgeSyncEngine withFiles(FileInbox inbox, FileOutbox outbox, Runnable wakeup) {
    this.files = new EdgeFiles(inbox, outbox, fileLink(), link, wakeup);
    return this;
  }

  /**
   * Files changed locally: an upload was queued, a download's assembly finished, or the device's
   * program reported an install. Offers and reports go out now if connected.
   */
  public void onFilesChanged(long nowMs) {
    lastNowMs = nowMs;
    if (files != null) {
      files.onLocalChange(nowMs);
      pump(nowMs);
    }
  }

  private FileLink fileLink() {
    return new FileLink() {
      @Override
      public void send(Frame frame) {
        EdgeSyncEngine.this.send(frame);
      }

      @Override
      public int maxFrameBytes() {
        return maxFrameBytes;
      }
    };
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
      wire.saveUnsaved(outbox);
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
          case ACTIVE -> liveness.wakeupMs();
          case STOPPED -> Long.MAX_VALUE;
        };
    if (state == State.STOPPED) {
      return t;
    }
    t = triggers.wakeupMs(t, state == State.ACTIVE, this::unsentRecords);
    if (state == State.ACTIVE && status != null) {
      t = Math.min(t, status.wakeupMs());
    }
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
    return positions.nextOrNone(stream);
  }

  public long bytesSent() {
    return bytesSent;
  }

  public long batchesSent() {
    return batches.batchesSent();
  }

  public long recordsSent() {
    return batches.recordsSent();
  }

  public long sessionsEstablished() {
    return sessionsEstablished;
  }

  /**
   * When (in the {@code nowMs} given to this engine) the cloud last acknowledged data; -1: never.
   */
  public long lastAckAtMs() {
    return lastAckAtMs;
  }

  public String lastError() {
    return lastError;
  }

  public Map<String, String> blockedStreams() {
    return positions.blocked();
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
    return wire.total();
  }

  /** Streams that have records to send but are held back now, with the reason. */
  public Map<String, String> deferredStreams() {
    return deferrals.texts();
  }

  /** What adaptive sync measured, and the codec and level in use. */
  public LinkStatus linkStatus() {
    CodecSettings c = out.effective();
    return new LinkStatus(
        link.bandwidthKbps(lastNowMs),
        link.srttMs(),
        link.minRttMs(lastNowMs),
        deferrals.lowBandwidth(),
        c == null ? null : c.choice().name().toLowerCase(Locale.ROOT),
        out.acceptedCapabilities(),
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
    String refused = Handshake.versionRefused(welcome);
    if (refused != null) {
      io.disconnect(refused);
      return;
    }
    try {
      EdgeDictionaries.validate(welcome);
    } catch (RuntimeException e) {
      violation("invalid dictionary in Welcome: " + e.getMessage());
      return;
    }
    // The session's frame size, heartbeat interval and batch size: ours, or the cloud's if lower.
    maxFrameBytes = Handshake.maxFrameBytes(welcome, maxFrameBytes);
    liveness.onWelcome(welcome);
    sizing.onWelcome(welcome.getMaxRecordsPerBatch());
    String blocked = positions.resume(welcome);
    if (blocked != null) {
      lastError = blocked;
    }
    transition(State.ACTIVE, nowMs);
    liveness.onActive(nowMs);
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
    if (files != null && welcome.getCapabilitiesList().contains(EdgeFiles.CAPABILITY)) {
      files.onOpen(nowMs);
    }
    if (status != null) {
      Frame report = status.onWelcome(nowMs, welcome.getCapabilitiesList());
      if (report != null) {
        send(report);
      }
    }
    pump(nowMs);
  }

  /** Handles a frame that only an active session may receive; before, it is a violation. */
  private void whenActive(String what, Runnable handler) {
    if (state != State.ACTIVE) {
      violation(what + " before the handshake completed");
    } else {
      handler.run();
    }
  }

  private void onDictionary(StreamDictionary dictionary) {
    try {
      out.dictionaries().onReceived(dictionary);
    } catch (RuntimeException e) {
      violation("invalid StreamDictionary: " + e.getMessage());
    }
  }

  private void onAck(long nowMs, Ack ack) {
    if (!positions.onAck(ack.getStream(), ack.getSequence())) {
      violation(
          "Ack for "
              + ack.getStream()
              + " up to "
              + ack.getSequence()
              + " which is beyond anything appended");
      return;
    }
    wire.acknowledge(outbox, ack.getStream(), ack.getSequence());
    lastAckAtMs = nowMs;
    int before = inFlight.size();
    inFlight.acknowledge(ack.getStream(), ack.getSequence(), nowMs, link);
    if (status != null) {
      status.onAck(nowMs, before - inFlight.size());
    }
    sizing.onAck();
    sizing.adaptLevel(nowMs, out);
    pump(nowMs);
  }

  private void evaluateTriggers(long nowMs) {
    refreshDeferrals(nowMs);
    triggers.evaluate(nowMs, this::unsentRecords, this::unsentBytes);
  }

  /** Sends batches while a flush is requested (or a probe is due) and the window has room. */
  private void pump(long nowMs) {
    lastNowMs = nowMs;
    if (state == State.ACTIVE && !sessionBroken) {
      batches.pump(nowMs);
      if (files != null) {
        files.pump(
            nowMs,
            () -> deferrals.allowance(nowMs, EdgeFiles.PRIORITY),
            () -> triggers.requested() && unsentRecords() > 0);
      }
    }
  }

  /** Recomputes which streams are held back; a stream released sends its backlog now. */
  private void refreshDeferrals(long nowMs) {
    batches.refreshDeferrals(nowMs);
  }

  /** The session's codec state is unusable: end the session (the next one starts fresh). */
  private void sessionFailed(String message) {
    sessionBroken = true;
    lastError = message;
    io.disconnect(message);
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

  /** Records not yet sent of streams neither blocked nor deferred ({@link SendPositions}). */
  private long unsentRecords() {
    return positions.unsentRecords(deferrals::isDeferred);
  }

  private long unsentBytes() {
    return positions.unsentBytes(deferrals::isDeferred);
  }
}

package io.edgesync.engine;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
  }

  private static final long NONE = Long.MIN_VALUE;
  private static final int MAX_DOC_FRAMES_IN_FLIGHT = 4;
  private static final int MAX_DOC_CHANGES_PER_FRAME = 512;

  private final SyncPolicy policy;
  private final Outbox outbox;
  private final DocReplica docs;
  private final CommandInbox commands;
  private final Io io;
  private final Backoff backoff;

  private State state = State.DISCONNECTED;
  private long stateSinceMs;
  private long reconnectAtMs;
  private long lastReceivedMs;
  private long lastHeartbeatSentMs;
  private int maxFrameBytes = ProtocolLimits.DEFAULT_MAX_FRAME_BYTES;
  private int maxBatchRecords;

  /** Next sequence to send per stream; only meaningful while ACTIVE. */
  private final Map<String, Long> nextSend = new HashMap<>();

  /** Streams that must not be sent, with the reason (e.g. the cloud is ahead of this store). */
  private final Map<String, String> blockedStreams = new LinkedHashMap<>();

  /**
   * Document changes: processed by the cloud up to docAcked; sent in this session up to docSent.
   */
  private long docAcked;

  private long docSent;
  private int docFramesInFlight;

  /** Command statuses sent in this session ("id/state"), so a finish is not reported twice. */
  private final java.util.Set<String> commandStatusesSent = new java.util.HashSet<>();

  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private long inFlightBytes;

  private boolean flushRequested;
  private long lastWriteMs = NONE;
  private long firstUnflushedMs = NONE;
  private long nextScheduledMs = NONE;

  private long bytesSent;
  private long batchesSent;
  private long recordsSent;
  private long sessionsEstablished;
  private String lastError;

  private record InFlight(String stream, long lastSequence, long payloadBytes) {}

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
    this.docs = docs;
    this.commands = commands;
    this.io = io;
    this.backoff =
        new Backoff(
            policy.backoffInitialMs(), policy.backoffMaxMs(), policy.backoffMultiplier(), random);
    this.maxBatchRecords = policy.maxBatchRecords();
  }

  // ---------------------------------------------------------------- inputs

  /** Starts the engine: connects at once. */
  public void start(long nowMs) {
    reconnectAtMs = nowMs;
    stateSinceMs = nowMs;
    if (policy.scheduled()) {
      nextScheduledMs = nowMs + policy.intervalMs();
    }
    if (unsentRecords() > 0) {
      firstUnflushedMs = nowMs;
    }
    onTimer(nowMs);
  }

  public void onTimer(long nowMs) {
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
        if (nowMs - lastReceivedMs >= policy.heartbeatTimeoutMs()) {
          io.disconnect("nothing received for " + (nowMs - lastReceivedMs) + " ms");
          return;
        }
        if (nowMs - lastHeartbeatSentMs >= policy.heartbeatIntervalMs()) {
          sendHeartbeat(nowMs, false);
        }
      }
      case STOPPED -> {
        return;
      }
    }
    if (nextScheduledMs != NONE && nowMs >= nextScheduledMs) {
      nextScheduledMs = nowMs + policy.intervalMs();
      if (unsentRecords() > 0) {
        flushRequested = true;
      }
    }
    evaluateTriggers(nowMs);
    pump(nowMs);
  }

  public void onConnected(long nowMs) {
    if (state != State.CONNECTING) {
      return;
    }
    transition(State.HANDSHAKING, nowMs);
    lastReceivedMs = nowMs;
    Hello.Builder hello =
        Hello.newBuilder()
            .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
            .setDeviceId(policy.deviceId())
            .setAgentVersion(policy.agentVersion())
            .setStoreId(outbox.storeId());
    for (Outbox.StreamState s : outbox.streams()) {
      hello.addCheckpoints(
          StreamCheckpoint.newBuilder().setStream(s.name()).setSequence(s.ackedSequence()));
    }
    for (Map.Entry<String, Long> c : docs.cursors().entrySet()) {
      hello.addDocCursors(ScopeCursor.newBuilder().setScope(c.getKey()).setVersion(c.getValue()));
    }
    send(Frame.newBuilder().setHello(hello).build());
  }

  public void onDisconnected(long nowMs, String reason) {
    if (state == State.STOPPED || state == State.DISCONNECTED) {
      return;
    }
    lastError = reason;
    transition(State.DISCONNECTED, nowMs);
    reconnectAtMs = nowMs + backoff.nextDelayMs();
    nextSend.clear();
    inFlight.clear();
    inFlightBytes = 0;
    docFramesInFlight = 0;
    commandStatusesSent.clear();
  }

  public void onFrame(long nowMs, Frame frame) {
    if (state != State.HANDSHAKING && state != State.ACTIVE) {
      return;
    }
    lastReceivedMs = nowMs;
    switch (frame.getBodyCase()) {
      case WELCOME -> onWelcome(nowMs, frame.getWelcome());
      case ACK -> onAck(nowMs, frame.getAck());
      case DOC_UPDATES -> {
        if (requireActive("DocUpdates")) {
          docs.apply(frame.getDocUpdates().getUpdatesList());
        }
      }
      case DOC_ACK -> onDocAck(frame.getDocAck());
      case COMMAND -> {
        if (requireActive("Command")) {
          sendCommandStatus(commands.received(frame.getCommand(), nowMs));
        }
      }
      case COMMAND_STATUS -> {
        // The cloud echoes a final status once it stored it. An echo of RECEIVED (the cloud had
        // already marked the command final itself) confirms nothing: the device's own final
        // status must still reach the cloud.
        if (requireActive("CommandStatus") && isFinal(frame.getCommandStatus().getState())) {
          commands.confirmed(frame.getCommandStatus().getId());
        }
      }
      case HEARTBEAT -> {
        if (!frame.getHeartbeat().getReply()) {
          sendHeartbeat(nowMs, true);
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

  /** New records were appended to {@code stream}. */
  public void onAppended(long nowMs) {
    lastWriteMs = nowMs;
    if (firstUnflushedMs == NONE) {
      firstUnflushedMs = nowMs;
    }
    evaluateTriggers(nowMs);
    pump(nowMs);
  }

  /** A local document write: send it now (documents are not batched; they are few and small). */
  public void onDocChanged(long nowMs) {
    pumpDocs();
  }

  /** A command finished locally: report its status now if connected (else after reconnecting). */
  public void onCommandFinished(long nowMs) {
    if (state == State.ACTIVE) {
      for (CommandStatus st : commands.unconfirmed()) {
        sendCommandStatus(st);
      }
    }
  }

  /** On-demand sync: flush now, and skip the backoff wait if disconnected. */
  public void requestSync(long nowMs) {
    flushRequested = unsentRecords() > 0 || flushRequested;
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
                  lastReceivedMs + policy.heartbeatTimeoutMs(),
                  lastHeartbeatSentMs + policy.heartbeatIntervalMs());
          case STOPPED -> Long.MAX_VALUE;
        };
    if (state == State.STOPPED) {
      return t;
    }
    if (nextScheduledMs != NONE) {
      t = Math.min(t, nextScheduledMs);
    }
    if (state == State.ACTIVE && !flushRequested && unsentRecords() > 0) {
      if (firstUnflushedMs != NONE) {
        t = Math.min(t, firstUnflushedMs + policy.batchMaxAgeMs());
      }
      if (policy.eventDriven() && lastWriteMs != NONE) {
        t = Math.min(t, lastWriteMs + policy.debounceMs());
      }
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
      case ACTIVE -> inFlight.isEmpty() && !flushRequested ? Status.IDLE : Status.BUSY;
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
    if (welcome.getMaxFrameBytes() > 0) {
      maxFrameBytes = Math.min(welcome.getMaxFrameBytes(), ProtocolLimits.MAX_FRAME_BYTES_CEILING);
    }
    maxBatchRecords =
        welcome.getMaxRecordsPerBatch() > 0
            ? Math.min(policy.maxBatchRecords(), welcome.getMaxRecordsPerBatch())
            : policy.maxBatchRecords();
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
    transition(State.ACTIVE, nowMs);
    lastHeartbeatSentMs = nowMs;
    backoff.reset();
    sessionsEstablished++;
    if (unsentRecords() > 0) {
      flushRequested = true;
    }
    docAcked = welcome.getDocChangeSeq();
    docs.acknowledged(docAcked, List.of());
    docSent = docAcked;
    for (CommandStatus st : commands.unconfirmed()) {
      sendCommandStatus(st);
    }
    pumpDocs();
    pump(nowMs);
  }

  private boolean requireActive(String what) {
    if (state != State.ACTIVE) {
      violation(what + " before the handshake completed");
      return false;
    }
    return true;
  }

  private void onDocAck(DocAck ack) {
    if (!requireActive("DocAck")) {
      return;
    }
    if (ack.getChangeSeq() > docSent) {
      violation("DocAck for change " + ack.getChangeSeq() + " beyond the last sent, " + docSent);
      return;
    }
    docAcked = Math.max(docAcked, ack.getChangeSeq());
    docFramesInFlight = Math.max(0, docFramesInFlight - 1);
    docs.acknowledged(docAcked, ack.getResendFullList());
    pumpDocs();
  }

  /** Sends pending document changes while the (small) window has room. */
  private void pumpDocs() {
    if (state != State.ACTIVE) {
      return;
    }
    while (docFramesInFlight < MAX_DOC_FRAMES_IN_FLIGHT) {
      List<DocChange> pending =
          docs.pendingChanges(
              docSent, MAX_DOC_CHANGES_PER_FRAME, Math.max(1024, maxFrameBytes - 4096));
      if (pending.isEmpty()) {
        return;
      }
      send(
          Frame.newBuilder().setDocChanges(DocChanges.newBuilder().addAllChanges(pending)).build());
      docSent = pending.get(pending.size() - 1).getChangeSeq();
      docFramesInFlight++;
    }
  }

  private static boolean isFinal(io.edgesync.protocol.wire.CommandState state) {
    return switch (state) {
      case COMMAND_SUCCEEDED, COMMAND_FAILED, COMMAND_EXPIRED -> true;
      default -> false;
    };
  }

  private void sendCommandStatus(CommandStatus status) {
    if (commandStatusesSent.add(status.getId() + "/" + status.getState())) {
      send(Frame.newBuilder().setCommandStatus(status).build());
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
    outbox.acknowledge(ack.getStream(), ack.getSequence());
    // Acks arrive in send order per stream; batches of other streams may be interleaved.
    inFlight.removeIf(
        f -> {
          boolean done =
              f.stream().equals(ack.getStream()) && f.lastSequence() <= ack.getSequence();
          if (done) {
            inFlightBytes -= f.payloadBytes();
          }
          return done;
        });
    pump(nowMs);
  }

  private void evaluateTriggers(long nowMs) {
    if (flushRequested) {
      return;
    }
    long unsent = unsentRecords();
    if (unsent == 0) {
      firstUnflushedMs = NONE;
      return;
    }
    if (unsent >= policy.batchMinRecords() || unsentBytes() >= policy.batchMinBytes()) {
      flushRequested = true;
    } else if (firstUnflushedMs != NONE && nowMs - firstUnflushedMs >= policy.batchMaxAgeMs()) {
      flushRequested = true;
    } else if (policy.eventDriven()
        && lastWriteMs != NONE
        && nowMs - lastWriteMs >= policy.debounceMs()) {
      flushRequested = true;
    }
  }

  /** Sends batches while a flush is requested and the window has room. */
  private void pump(long nowMs) {
    if (state != State.ACTIVE || !flushRequested) {
      return;
    }
    while (inFlight.size() < policy.maxInFlightBatches()
        && inFlightBytes < policy.maxInFlightBytes()) {
      if (!sendNext(nowMs)) {
        flushRequested = false;
        firstUnflushedMs = NONE;
        return;
      }
    }
  }

  private boolean sendNext(long nowMs) {
    for (Outbox.StreamState s : outbox.streams()) {
      Long next = nextSend.get(s.name());
      if (next == null) {
        // A stream that appeared after the handshake: the cloud has nothing of it yet.
        if (blockedStreams.containsKey(s.name())) {
          continue;
        }
        next = s.ackedSequence() + 1;
        nextSend.put(s.name(), next);
      }
      if (next > s.lastSequence()) {
        continue;
      }
      long budget = Math.max(1, maxFrameBytes - 1024);
      Outbox.Item item =
          outbox.read(s.name(), next, maxBatchRecords, Math.min(policy.maxBatchBytes(), budget));
      if (item == null) {
        continue;
      }
      if (item.firstSequence() != next) {
        blockedStreams.put(
            s.name(),
            "outbox returned sequence "
                + item.firstSequence()
                + " when "
                + next
                + " was expected for stream '"
                + s.name()
                + "'");
        lastError = blockedStreams.get(s.name());
        continue;
      }
      Frame frame;
      long payloadBytes;
      long records;
      if (item instanceof Outbox.Item.Records r) {
        frame = Frame.newBuilder().setBatch(FrameCodec.batch(s.name(), r.records())).build();
        payloadBytes = r.payloadBytes();
        records = r.records().size();
      } else {
        Outbox.Item.Gap g = (Outbox.Item.Gap) item;
        frame =
            Frame.newBuilder()
                .setGap(
                    Gap.newBuilder()
                        .setStream(s.name())
                        .setFirstSequence(g.firstSequence())
                        .setLastSequence(g.lastSequence())
                        .setReason(g.reason())
                        .setDroppedAtMs(g.droppedAtMs()))
                .build();
        payloadBytes = 0;
        records = 0;
      }
      send(frame);
      batchesSent++;
      recordsSent += records;
      inFlight.add(new InFlight(s.name(), item.lastSequence(), payloadBytes));
      inFlightBytes += payloadBytes;
      nextSend.put(s.name(), item.lastSequence() + 1);
      return true;
    }
    return false;
  }

  private void sendHeartbeat(long nowMs, boolean reply) {
    lastHeartbeatSentMs = nowMs;
    send(Frames.heartbeat(nowMs, reply));
  }

  private void send(Frame frame) {
    bytesSent += frame.getSerializedSize();
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

  /** Records appended but not yet sent in this session (or not acked, when offline). */
  private long unsentRecords() {
    long total = 0;
    for (Outbox.StreamState s : outbox.streams()) {
      if (blockedStreams.containsKey(s.name())) {
        continue;
      }
      Long next = state == State.ACTIVE ? nextSend.get(s.name()) : null;
      long sentUpTo = next != null ? next - 1 : s.ackedSequence();
      total += Math.max(0, s.lastSequence() - sentUpTo);
    }
    return total;
  }

  private long unsentBytes() {
    long queued = 0;
    for (Outbox.StreamState s : outbox.streams()) {
      queued += s.queuedBytes();
    }
    return Math.max(0, queued - inFlightBytes);
  }
}

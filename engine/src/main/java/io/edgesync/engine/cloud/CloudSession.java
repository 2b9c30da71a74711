package io.edgesync.engine.cloud;

import com.google.protobuf.ByteString;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.dict.DictionaryCatalog;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileLink;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.wire.CertificateIssued;
import io.edgesync.protocol.wire.CertificateRequest;
import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.protocol.wire.DocUpdates;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.Heartbeat;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The cloud side of one device session, as a state machine without I/O: frames in, frames out
 * through {@link Io}, data into the {@link CloudStore}. An ack is sent only after the store's
 * commit returned, i.e. after the data is durable.
 *
 * <p>Every protocol error is answered with an Error frame naming the problem and then the session
 * is closed; nothing of the offending frame is stored. Thread safe (methods synchronized): the
 * transport delivers frames on its thread while document and command pushes come from others.
 */
public final class CloudSession {
  /** Zstd level of file chunk packs the cloud sends. */
  private static final int FILE_PACK_LEVEL = 3;

  /** Set once before the first frame by {@link #withFiles}; null: no files. */
  private SessionFiles files;

  /** Set once before the first frame by {@link #withStatus}; null: reports not taken. */
  private SessionStatus status;

  private DeviceReports reports;

  /** The highest document change sequence of the device this session knows processed. */
  private long docChangeSeqSeen;

  private long lastNowMs;
  private Frame.BodyCase lastFrameKind = Frame.BodyCase.BODY_NOT_SET;

  /** Where the session's outputs go. */
  public interface Io {
    void send(Frame frame);

    void close(String reason);

    /**
     * Ends a session that a newer one of the same device replaced: a normal close, not a refusal
     * ({@link #close} by default).
     */
    default void replaced(String reason) {
      close(reason);
    }

    /**
     * The Hello named and claimed {@code deviceId}, before the session reads what to push to it
     * (documents, commands, rollouts): the server registers the session for pushes here, under the
     * session's monitor, so a change committed while the Hello is handled is pushed once the Hello
     * is done, instead of falling between the Hello's read and the registration.
     */
    default void identified(String deviceId) {}

    /**
     * A document version committed while this session was open reached its device {@code lagMs}
     * after its commit (the commit's time is the committing node's clock): what the server's push
     * lag metric is made of. Catch-up after a Hello is not reported; it measures the outage.
     */
    default void pushed(long lagMs) {}
  }

  /** Lifecycle: AWAIT_HELLO → ACTIVE → CLOSED, or AWAIT_HELLO → CLOSED. */
  public enum State {
    AWAIT_HELLO,
    ACTIVE,
    CLOSED
  }

  /** Most edge document changes accepted in one frame. */
  public static final int MAX_DOC_CHANGES_PER_FRAME = 4096;

  private static final int PUSH_PAGE_DOCS = 512;
  private static final int MAX_COMMANDS_PER_PUSH = 256;

  private final ServerPolicy policy;
  private final CloudStore store;
  private final Io io;
  private State state = State.AWAIT_HELLO;
  private String deviceId;
  private long claimEpoch;
  private long recordsCommitted;
  private long docUpdatesSent;
  private long changesRefused;
  private long commandReportsRefused;

  /** The stream checkpoints as this session last saw them: to count only new records. */
  private final Map<String, Long> checkpoints = new java.util.HashMap<>();

  /** Documents served to devices, in store scope naming → the version sent so far. */
  private final Map<String, Long> docCursors = new LinkedHashMap<>();

  /** Commands sent in this session (each is sent once per session until the device confirms). */
  private final Set<String> commandsSent = new HashSet<>();

  private final CloudDocuments docs;
  private final CommandStore commands;

  /** This session's record batches: negotiated codecs and the decoder; set by Hello. */
  private IncomingBatches batches;

  private long wireRawBytes;
  private long wirePayloadBytes;

  /** Most dictionary ids a device may list in Hello (bounds the session's memory). */
  public static final int MAX_HELLO_DICTIONARY_IDS = 4096;

  private final SessionDictionaries dictionaries;

  /** Set once before the first frame by {@link #requireDeviceId}; null: not authenticated. */
  private String authenticatedDeviceId;

  /** Set once before the first frame by {@link #withCertificateSigner}; null: none. */
  private CertificateSigner certificateSigner;

  /** A session for streams only: documents and commands are refused. */
  public CloudSession(ServerPolicy policy, CloudStore store, Io io) {
    this(policy, store, null, null, io);
  }

  /**
   * Serves trained dictionaries from {@code catalog}: ships them to the device and decodes batches
   * that name them. Call before the first frame.
   */
  public synchronized CloudSession withDictionaries(DictionaryCatalog catalog) {
    dictionaries.use(java.util.Objects.requireNonNull(catalog, "catalog"));
    return this;
  }

  /**
   * The cloud trained a new dictionary: send it if the device has the stream and does not hold it.
   */
  public synchronized void onDictionary(DictionaryCatalog.StreamDictionary d) {
    if (state == State.ACTIVE) {
      try {
        dictionaries.onTrained(d);
      } catch (RuntimeException e) {
        fail(ErrorCode.INTERNAL, "server error: " + e);
      }
    }
  }

  /**
   * The device this connection authenticated as (the id in its TLS client certificate): a Hello
   * naming another device is refused with a fatal {@code IDENTITY_MISMATCH} and nothing of the
   * session is stored. Without it (plain connections) the Hello's id is taken as given. Call before
   * the first frame.
   */
  public synchronized CloudSession requireDeviceId(String authenticatedDeviceId) {
    this.authenticatedDeviceId =
        java.util.Objects.requireNonNull(authenticatedDeviceId, "authenticatedDeviceId");
    return this;
  }

  /**
   * Signs the certificate requests of a session (in-band renewal); implemented by the server, which
   * holds the CA, so that this engine does no I/O of its own. Called on the session's thread.
   */
  @FunctionalInterface
  public interface CertificateSigner {
    /**
     * The answer to {@code request} from the session of {@code authenticatedDeviceId} (the id of
     * its client certificate; null on a connection without one): certificates, or a refusal.
     */
    CertificateIssued sign(String authenticatedDeviceId, CertificateRequest request);
  }

  /** Answers CertificateRequest frames with {@code signer}; without one they are refused. */
  public synchronized CloudSession withCertificateSigner(CertificateSigner signer) {
    this.certificateSigner = java.util.Objects.requireNonNull(signer, "signer");
    return this;
  }

  /**
   * Takes the device's status reports (DeviceStatus; the session accepts the capability "status")
   * and counts its document changes into {@code reports}. Call before the first frame.
   */
  public synchronized CloudSession withStatus(DeviceReports reports) {
    this.reports = java.util.Objects.requireNonNull(reports, "reports");
    this.status = new SessionStatus(reports);
    return this;
  }

  /** Dictionaries this session sent to the device (in Welcome and as frames). */
  public synchronized long dictionariesSent() {
    return dictionaries.sent();
  }

  /**
   * @param docs the document authority, or null when documents are not served
   * @param commands the command store, or null when commands are not served
   */
  public CloudSession(
      ServerPolicy policy, CloudStore store, CloudDocuments docs, CommandStore commands, Io io) {
    this.policy = policy;
    this.store = store;
    this.docs = docs;
    this.commands = commands;
    this.io = io;
    this.dictionaries = new SessionDictionaries(policy.maxFrameBytes(), io::send);
  }

  /** One binary frame arrived. */
  public synchronized void onFrame(long nowMs, byte[] bytes) {
    if (state == State.CLOSED) {
      return;
    }
    try {
      lastFrameKind = Frame.BodyCase.BODY_NOT_SET;
      Frame frame = FrameCodec.decode(bytes, policy.maxFrameBytes());
      lastNowMs = nowMs;
      lastFrameKind = frame.getBodyCase();
      switch (frame.getBodyCase()) {
        case HELLO -> onHello(nowMs, frame.getHello());
        case BATCH -> onBatch(nowMs, frame.getBatch(), bytes.length);
        case GAP -> onGap(nowMs, frame.getGap());
        case HEARTBEAT -> onHeartbeat(nowMs, frame.getHeartbeat());
        case DOC_CHANGES -> onDocChanges(nowMs, frame.getDocChanges());
        case COMMAND_STATUS -> onCommandStatus(nowMs, frame.getCommandStatus());
        case CERTIFICATE_REQUEST -> onCertificateRequest(frame.getCertificateRequest());
        case STATUS -> onStatus(nowMs, frame, bytes.length);
        case FILE_OFFER, FILE_DATA, FILE_REQUEST, FILE_REPORT -> onFileFrame(nowMs, frame, bytes);
        case ERROR -> {
          /* the device reports a problem; nothing to do but note the time */
        }
        default ->
            throw new ProtocolException(
                ErrorCode.PROTOCOL_VIOLATION,
                "a device may not send " + frame.getBodyCase() + " frames");
      }
    } catch (ProtocolException e) {
      fail(e.code(), e.getMessage());
    } catch (CloudStore.SequenceException e) {
      fail(ErrorCode.PROTOCOL_VIOLATION, e.getMessage());
    } catch (CloudStore.SessionFencedException e) {
      replaced(e.getMessage());
    } catch (RuntimeException e) {
      fail(ErrorCode.INTERNAL, "server error: " + e);
    }
  }

  /**
   * A WebSocket text message arrived. Frames travel only as binary messages; a text message is
   * refused by name rather than decoded as a frame, whose error ("does not end with its checksum",
   * "input ended unexpectedly") would send a device's author looking in the wrong place.
   */
  public synchronized void onTextMessage(long nowMs) {
    if (state != State.CLOSED) {
      fail(
          ErrorCode.PROTOCOL_VIOLATION,
          "text messages are not part of the protocol; send every Frame as a binary message");
    }
  }

  /** The kind of the last frame {@link #onFrame} read; BODY_NOT_SET if it did not decode. */
  public synchronized Frame.BodyCase lastFrameKind() {
    return lastFrameKind;
  }

  /** Documents of some scope changed: push what this device has not been sent yet. */
  public synchronized void onDocsChanged(long nowMs) {
    if (state == State.ACTIVE && docs != null) {
      try {
        pushDocs(nowMs);
      } catch (RuntimeException e) {
        fail(ErrorCode.INTERNAL, "server error: " + e);
      }
    }
  }

  /** Commands were queued for this device: send them. */
  /**
   * File transfers of this device: the versions offered to it (rollouts) and its uploads. Without
   * them the session offers nothing and refuses the device's offers.
   */
  public synchronized CloudSession withFiles(FileOutbox outbox, FileInbox inbox) {
    FileLink link =
        new FileLink() {
          @Override
          public void send(Frame frame) {
            io.send(frame);
          }

          @Override
          public int maxFrameBytes() {
            return policy.maxFrameBytes();
          }
        };
    this.files = new SessionFiles(outbox, inbox, link, this::onUploadsAssembled, FILE_PACK_LEVEL);
    return this;
  }

  /** A rollout admitted this device (or a version was withdrawn): offer what is due now. */
  public synchronized void onFilesOffered(long nowMs) {
    if (state == State.ACTIVE && files != null && files.isOpen()) {
      try {
        files.offerDue(nowMs);
      } catch (RuntimeException e) {
        fail(ErrorCode.INTERNAL, "server error: " + e);
      }
    }
  }

  /** An upload's assembly ended (on the assembling thread): record it and tell the device. */
  private synchronized void onUploadsAssembled() {
    if (files != null) {
      files.drainCompletions(lastNowMs);
    }
  }

  public synchronized void onCommandsQueued(long nowMs) {
    if (state == State.ACTIVE && commands != null) {
      try {
        pushCommands(nowMs);
      } catch (RuntimeException e) {
        fail(ErrorCode.INTERNAL, "server error: " + e);
      }
    }
  }

  /**
   * Ends the session for a reason outside the protocol (its client certificate was revoked while it
   * was open): a fatal Error with {@code code} and {@code message}, then the close. Frames that
   * arrive afterwards are not handled, so nothing the device sends from now on is stored.
   */
  public synchronized void closeWithError(ErrorCode code, String message) {
    if (state != State.CLOSED) {
      fail(code, message);
    }
  }

  /** The transport closed. */
  public synchronized void onClosed(long nowMs) {
    if (deviceId != null && state == State.ACTIVE) {
      store.touchDevice(deviceId, nowMs);
    }
    state = State.CLOSED;
    releaseBatches();
    if (files != null) {
      files.onClose();
    }
  }

  private void onFileFrame(long nowMs, Frame frame, byte[] bytes) throws ProtocolException {
    if (state != State.ACTIVE || files == null || !files.isOpen()) {
      throw new ProtocolException(
          ErrorCode.PROTOCOL_VIOLATION,
          frame.getBodyCase() + " in a session without files (Welcome did not accept \"files\")");
    }
    files.onFrame(nowMs, frame, bytes.length);
  }

  public State state() {
    return state;
  }

  /** The device's id once the handshake is done, else null. */
  public String deviceId() {
    return state == State.AWAIT_HELLO ? null : deviceId;
  }

  /** Document versions this session sent to the device. */
  public synchronized long docUpdatesSent() {
    return docUpdatesSent;
  }

  /** Records this session stored (resent records the store skipped are not counted). */
  public long recordsCommitted() {
    return recordsCommitted;
  }

  /**
   * The capabilities this session accepted (Welcome.capabilities): codecs and the compact envelope;
   * empty before the handshake.
   */
  public synchronized List<String> acceptedCapabilities() {
    return accepted;
  }

  /** The epoch of the device's session this session claimed at its Hello (0 before, or none). */
  public synchronized long claimEpoch() {
    return claimEpoch;
  }

  /** Record-layout bytes of the batches this session received. */
  public synchronized long wireRawBytes() {
    return wireRawBytes;
  }

  /** Encoded payload bytes of the batches this session received. */
  public synchronized long wirePayloadBytes() {
    return wirePayloadBytes;
  }

  private List<String> accepted = List.of();

  private void onHello(long nowMs, Hello hello) throws ProtocolException {
    checkHello(hello);
    admit(hello, nowMs);
    deviceId = hello.getDeviceId();
    claimEpoch = store.claimSession(deviceId, nowMs); // before the checkpoints; touches it too
    io.identified(deviceId);
    state = State.ACTIVE;
    Welcome.Builder welcome = negotiate(hello);
    checkpoints.putAll(store.checkpoints(deviceId));
    for (Map.Entry<String, Long> cp : new TreeMap<>(checkpoints).entrySet()) {
      welcome.addCheckpoints(
          StreamCheckpoint.newBuilder().setStream(cp.getKey()).setSequence(cp.getValue()));
    }
    List<DictionaryCatalog.StreamDictionary> toShip =
        dictionaries.welcome(hello, checkpoints.keySet(), welcome);
    if (docs != null) {
      welcomeDocs(hello, welcome);
    }
    io.send(Frame.newBuilder().setWelcome(welcome).build());
    for (DictionaryCatalog.StreamDictionary d : toShip) {
      dictionaries.ship(d);
    }
    if (docs != null) {
      pushDocs();
    }
    if (commands != null) {
      pushCommands(nowMs);
    }
    if (accepted.contains(SessionFiles.CAPABILITY)) {
      files.onOpen(nowMs);
    }
  }

  /** What a Hello must be on its own: the first, our version, a valid device id, few ids. */
  private void checkHello(Hello hello) throws ProtocolException {
    if (state != State.AWAIT_HELLO) {
      throw new ProtocolException(ErrorCode.PROTOCOL_VIOLATION, "Hello sent twice");
    }
    if (hello.getProtocolVersion() != ProtocolLimits.PROTOCOL_VERSION) {
      throw new ProtocolException(
          ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
          "protocol version "
              + hello.getProtocolVersion()
              + " is not supported; this server speaks "
              + ProtocolLimits.PROTOCOL_VERSION);
    }
    if (hello.getDictionaryIdsCount() > MAX_HELLO_DICTIONARY_IDS) {
      throw new ProtocolException(
          ErrorCode.PROTOCOL_VIOLATION,
          "Hello lists "
              + hello.getDictionaryIdsCount()
              + " dictionary ids; the limit is "
              + MAX_HELLO_DICTIONARY_IDS);
    }
    if (!ProtocolLimits.isValidDeviceId(hello.getDeviceId())) {
      throw new ProtocolException(
          ErrorCode.UNKNOWN_DEVICE,
          "invalid device id '"
              + hello.getDeviceId()
              + "': must match "
              + ProtocolLimits.DEVICE_ID_PATTERN);
    }
    if (authenticatedDeviceId != null && !authenticatedDeviceId.equals(hello.getDeviceId())) {
      throw new ProtocolException(
          ErrorCode.IDENTITY_MISMATCH,
          "Hello names device '"
              + hello.getDeviceId()
              + "' but the client certificate is device '"
              + authenticatedDeviceId
              + "'");
    }
  }

  /** Registers an unknown device (if this server does that) and checks its outbox store. */
  private void admit(Hello hello, long nowMs) throws ProtocolException {
    if (store.device(hello.getDeviceId()).isEmpty()) {
      if (!policy.autoRegister()) {
        throw new ProtocolException(
            ErrorCode.UNKNOWN_DEVICE,
            "device '"
                + hello.getDeviceId()
                + "' is not registered and this server does not"
                + " auto-register devices");
      }
      store.registerDevice(hello.getDeviceId(), nowMs);
    }
    checkStore(hello.getDeviceId(), hello.getStoreId());
  }

  /**
   * The session's codecs (what the device offers and this server accepts; NONE always) and
   * envelope, its decoder, and the Welcome that tells the device, with the server's limits.
   */
  private Welcome.Builder negotiate(Hello hello) {
    EnumSet<Codec> codecs = EnumSet.copyOf(CodecCapabilities.codecs(hello.getCapabilitiesList()));
    codecs.retainAll(policy.codecs());
    codecs.add(Codec.NONE);
    boolean compact =
        policy.compactBatches()
            && hello.getCapabilitiesList().contains(CodecCapabilities.COMPACT_BATCH);
    List<String> caps = new java.util.ArrayList<>();
    for (Codec c : codecs) {
      if (c != Codec.NONE) {
        caps.add(CodecCapabilities.of(c));
      }
    }
    if (compact) {
      caps.add(CodecCapabilities.COMPACT_BATCH);
    }
    caps.addAll(CodecCapabilities.seriesAnswer(hello.getCapabilitiesList(), codecs));
    if (files != null && hello.getCapabilitiesList().contains(SessionFiles.CAPABILITY)) {
      caps.add(SessionFiles.CAPABILITY);
    }
    if (status != null && hello.getCapabilitiesList().contains(SessionStatus.CAPABILITY)) {
      caps.add(SessionStatus.CAPABILITY);
    }
    accepted = List.copyOf(caps);
    DictionaryCatalog catalog = dictionaries.catalog();
    batches =
        new IncomingBatches(
            codecs,
            compact,
            policy.maxRecordsPerBatch(),
            policy.maxDecodedBytesPerBatch(),
            catalog::byId);
    return Welcome.newBuilder()
        .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
        .setServerVersion(policy.serverVersion())
        .setMaxFrameBytes(policy.maxFrameBytes())
        .setMaxRecordsPerBatch(policy.maxRecordsPerBatch())
        .setHeartbeatIntervalMs((int) policy.heartbeatIntervalMs())
        .addAllCapabilities(accepted);
  }

  /**
   * Welcome's document part: the scopes the device reads with its cursors (saved, so tombstones
   * every reader has seen can go), the last change processed and the resends still asked for.
   */
  private void welcomeDocs(Hello hello, Welcome.Builder welcome) {
    Map<String, Long> fromEdge = new HashMap<>();
    for (ScopeCursor c : hello.getDocCursorsList()) {
      fromEdge.put(storeScope(c.getScope()), c.getVersion());
    }
    for (String scope : docs.scopesOf(deviceId)) {
      docCursors.put(scope, Math.max(0, fromEdge.getOrDefault(scope, 0L)));
      welcome.addDocScopes(wireScope(scope));
    }
    docs.store().saveCursors(deviceId, docCursors);
    String device = deviceId;
    docs.store()
        .inTransaction(
            tx ->
                welcome
                    .setDocChangeSeq(tx.lastChangeSeq(device))
                    .addAllDocResendFull(tx.resendRequests(device)));
    docChangeSeqSeen = welcome.getDocChangeSeq();
  }

  /**
   * A status report: checked whole and kept by the {@link DeviceReports}, or refused with a
   * non-fatal INVALID_STATUS (the session and its data go on; nothing of the report is kept).
   */
  private void onStatus(long nowMs, Frame frame, int frameBytes) throws ProtocolException {
    requireActive("DeviceStatus");
    if (!accepted.contains(SessionStatus.CAPABILITY)) {
      throw new ProtocolException(
          ErrorCode.PROTOCOL_VIOLATION,
          "DeviceStatus in a session that did not accept the capability \"status\"");
    }
    try {
      status.onStatus(deviceId, frame.getStatus(), frameBytes, nowMs);
    } catch (ProtocolException e) {
      io.send(Frames.error(e.code(), e.getMessage(), false));
    }
  }

  /** Counts the new changes of a DocChanges frame and their conflicts for the device's KPIs. */
  private void countDocChanges(DocChanges changes, CloudDocuments.EdgeApplied applied) {
    if (reports == null) {
      return;
    }
    int fresh = 0;
    for (io.edgesync.protocol.wire.DocChange c : changes.getChangesList()) {
      if (c.getChangeSeq() > docChangeSeqSeen) {
        fresh++;
      }
    }
    fresh -= applied.refused().size();
    docChangeSeqSeen = Math.max(docChangeSeqSeen, applied.lastChangeSeq());
    if (fresh > 0 || applied.conflicts() > 0) {
      reports.onDocChanges(deviceId, Math.max(0, fresh), applied.conflicts());
    }
  }

  /**
   * Binds the device to the outbox store its sequences come from (the first one it presents), and
   * refuses any other: a wiped store restarts its sequences at 1 and would collide with what the
   * cloud holds. An empty store id is accepted only while the device is bound to none (a device
   * that never sends one is not protected); once bound, a Hello must carry the store id, or an
   * empty one would skip the check. A refusal changes no stored data.
   */
  private void checkStore(String device, String storeId) throws ProtocolException {
    if (storeId.isEmpty()) {
      java.util.Optional<String> bound = store.boundStore(device);
      if (bound.isPresent()) {
        throw new ProtocolException(
            ErrorCode.STORE_MISMATCH,
            "device '"
                + device
                + "' sent no store_id, but its data in the cloud came from outbox store "
                + bound.get()
                + "; once a device's store is bound, every Hello must carry its store_id."
                + " Send the id of the device's outbox store");
      }
      return;
    }
    String bound = store.bindStore(device, storeId);
    if (!bound.equals(storeId)) {
      throw new ProtocolException(
          ErrorCode.STORE_MISMATCH,
          "device '"
              + device
              + "' connected with outbox store "
              + storeId
              + " but its data in the cloud came from store "
              + bound
              + "; a reset store restarts sequences at 1 and would collide. Restore the"
              + " device's store, or give the device a new id");
    }
  }

  private void onDocChanges(long nowMs, DocChanges changes) throws ProtocolException {
    requireActive("DocChanges");
    if (docs == null) {
      throw new ProtocolException(
          ErrorCode.PROTOCOL_VIOLATION, "this server does not serve documents");
    }
    if (changes.getChangesCount() > MAX_DOC_CHANGES_PER_FRAME) {
      throw new ProtocolException(
          ErrorCode.INVALID_DOCUMENT,
          changes.getChangesCount()
              + " changes in one DocChanges frame; the limit is "
              + MAX_DOC_CHANGES_PER_FRAME);
    }
    CloudDocuments.EdgeApplied applied = docs.applyEdgeChanges(deviceId, changes.getChangesList());
    countDocChanges(changes, applied);
    pushDocs(); // the outcomes, before the ack that says they exist
    if (!applied.unchanged().isEmpty()) {
      // Changes equal to the current value made no version, and processed changes sent again:
      // their outcome is the current one.
      List<DocUpdate> echo = new ArrayList<>(applied.unchanged().size());
      for (CloudDocuments.Unchanged u : applied.unchanged()) {
        echo.add(
            update(wireScope(u.current().scope()), u.current()).toBuilder()
                .setOriginChangeSeq(u.changeSeq())
                .build());
        docUpdatesSent++;
      }
      sendInFrames(echo);
    }
    DocAck.Builder ack =
        DocAck.newBuilder()
            .setChangeSeq(applied.lastChangeSeq())
            .addAllResendFull(applied.resendFull());
    for (CloudDocuments.Refused r : applied.refused()) {
      // Per change and not fatal: the device's other changes and the session go on.
      ack.addRefused(
          DocRefusal.newBuilder()
              .setChangeSeq(r.changeSeq())
              .setCode(ErrorCode.NOT_AUTHORIZED)
              .setReason(r.reason()));
      changesRefused++;
    }
    io.send(Frame.newBuilder().setDocAck(ack).build());
  }

  /** Command statuses this session refused: they named another device's command. */
  public synchronized long commandReportsRefused() {
    return commandReportsRefused;
  }

  /** Document changes this session refused as not authorized (nothing of them stored). */
  public synchronized long changesRefused() {
    return changesRefused;
  }

  /** Sends every version after this session's cursor in each scope, in version order. */
  private void pushDocs() {
    pushDocs(-1);
  }

  /** Room for versions in one DocUpdates frame: the frame limit, less room for the envelope. */
  private int pushBudgetBytes() {
    return Math.max(1024, policy.maxFrameBytes() - 4096);
  }

  /**
   * Sends {@code updates} in order, in as many DocUpdates frames as the frame limit needs (a batch
   * of outcomes of small patches may carry whole documents of up to the document limit each).
   */
  private void sendInFrames(List<DocUpdate> updates) {
    int budget = pushBudgetBytes();
    DocUpdates.Builder frame = DocUpdates.newBuilder();
    int bytes = 0;
    for (DocUpdate u : updates) {
      if (bytes > 0 && bytes + u.getSerializedSize() > budget) {
        io.send(Frame.newBuilder().setDocUpdates(frame).build());
        frame = DocUpdates.newBuilder();
        bytes = 0;
      }
      frame.addUpdates(u);
      bytes += u.getSerializedSize() + 8;
    }
    if (frame.getUpdatesCount() > 0) {
      io.send(Frame.newBuilder().setDocUpdates(frame).build());
    }
  }

  /**
   * {@link #pushDocs()}; with {@code nowMs} ≥ 0 (a live push), reports each version's push lag
   * ({@link Io#pushed}).
   */
  private void pushDocs(long nowMs) {
    int budget = pushBudgetBytes();
    for (Map.Entry<String, Long> cursor : docCursors.entrySet()) {
      String scope = cursor.getKey();
      String wire = wireScope(scope);
      while (true) {
        List<DocumentStore.StoredDoc> page =
            docs.store().changesAfter(scope, cursor.getValue(), PUSH_PAGE_DOCS);
        if (page.isEmpty()) {
          break;
        }
        DocUpdates.Builder frame = DocUpdates.newBuilder();
        int bytes = 0;
        for (DocumentStore.StoredDoc d : page) {
          DocUpdate u = update(wire, d);
          if (bytes > 0 && bytes + u.getSerializedSize() > budget) {
            io.send(Frame.newBuilder().setDocUpdates(frame).build());
            frame = DocUpdates.newBuilder();
            bytes = 0;
          }
          frame.addUpdates(u);
          docUpdatesSent++;
          bytes += u.getSerializedSize() + 8;
          cursor.setValue(d.version());
          if (nowMs >= 0) {
            io.pushed(Math.max(0, nowMs - d.updatedMs()));
          }
        }
        io.send(Frame.newBuilder().setDocUpdates(frame).build());
        if (page.size() < PUSH_PAGE_DOCS) {
          break;
        }
      }
    }
  }

  private DocUpdate update(String wireScope, DocumentStore.StoredDoc d) {
    DocUpdate.Builder u =
        DocUpdate.newBuilder()
            .setScope(wireScope)
            .setCollection(d.collection())
            .setKey(d.key())
            .setVersion(d.version())
            .setHlc(d.hlc().toWire())
            .setConflicted(d.conflictId() != 0);
    if (d.deleted()) {
      u.setDeleted(true);
    } else {
      u.setValue(ByteString.copyFrom(d.value()));
    }
    if (d.originDevice().equals(deviceId)) {
      u.setOriginChangeSeq(d.originChangeSeq());
    }
    return u.build();
  }

  private String wireScope(String scope) {
    return scope.equals(CloudDocuments.deviceScope(deviceId)) ? "device" : scope;
  }

  private String storeScope(String wire) {
    return wire.equals("device") ? CloudDocuments.deviceScope(deviceId) : wire;
  }

  private void pushCommands(long nowMs) {
    for (CommandStore.StoredCommand c :
        commands.deliverable(deviceId, MAX_COMMANDS_PER_PUSH, nowMs)) {
      if (!commandsSent.add(c.id())) {
        continue;
      }
      io.send(
          Frame.newBuilder()
              .setCommand(
                  Command.newBuilder()
                      .setId(c.id())
                      .setName(c.name())
                      .setPayload(ByteString.copyFrom(c.payload()))
                      .setTtlRemainingMs(Math.max(1, c.expiresMs() - nowMs)))
              .build());
      commands.sent(c.id(), nowMs);
    }
  }

  private void onCommandStatus(long nowMs, CommandStatus status) throws ProtocolException {
    requireActive("CommandStatus");
    if (commands == null) {
      throw new ProtocolException(
          ErrorCode.PROTOCOL_VIOLATION, "this server does not serve commands");
    }
    String state =
        switch (status.getState()) {
          case COMMAND_RECEIVED -> CommandStore.DELIVERED;
          case COMMAND_SUCCEEDED -> CommandStore.SUCCEEDED;
          case COMMAND_FAILED -> CommandStore.FAILED;
          case COMMAND_EXPIRED -> CommandStore.EXPIRED;
          default ->
              throw new ProtocolException(
                  ErrorCode.PROTOCOL_VIOLATION,
                  "CommandStatus for '" + status.getId() + "' has no valid state");
        };
    if (status.getResult().size() > ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES) {
      throw new ProtocolException(
          ErrorCode.INVALID_DOCUMENT,
          "command result of "
              + status.getResult().size()
              + " bytes exceeds "
              + ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES);
    }
    CommandStore.StoredCommand target = commands.command(status.getId(), nowMs);
    if (target != null && !target.deviceId().equals(deviceId)) {
      // Another device's command: refused by name, not fatal, nothing stored; no echo, since the
      // echo would confirm a status this device may not give.
      commandReportsRefused++;
      io.send(
          Frames.error(
              ErrorCode.NOT_AUTHORIZED,
              "device '"
                  + deviceId
                  + "' may not report the status of command '"
                  + status.getId()
                  + "': it was sent to another device",
              false));
      return;
    }
    CommandStore.StoredCommand after =
        commands.report(
            deviceId,
            status.getId(),
            state,
            status.getResult().isEmpty() ? null : status.getResult().toByteArray(),
            status.getError().isEmpty() ? null : status.getError(),
            nowMs);
    if (after == null || after.isFinal()) {
      // Confirm, so the device stops resending (an unknown id too: there is nothing to retry).
      io.send(
          Frame.newBuilder()
              .setCommandStatus(
                  CommandStatus.newBuilder().setId(status.getId()).setState(status.getState()))
              .build());
    }
  }

  private void onBatch(long nowMs, RecordBatch batch, int frameBytes)
      throws ProtocolException, CloudStore.SequenceException {
    requireActive("RecordBatch");
    IncomingBatches.Decoded d = batches.decode(batch);
    long checkpoint =
        store.commitRecords(
            deviceId,
            d.stream(),
            d.records(),
            nowMs,
            new CloudStore.WireBytes(d.raw(), batch.getPayload().size(), frameBytes));
    wireRawBytes += d.raw();
    wirePayloadBytes += batch.getPayload().size();
    dictionaries.onBatch(d.stream(), d.codec(), batches.lastDictionaryId(), d.records(), nowMs);
    long before = checkpoints.getOrDefault(d.stream(), 0L);
    // Records at or below the earlier checkpoint were a resend the store skipped.
    recordsCommitted += Math.max(0, checkpoint - Math.max(before, d.firstSequence() - 1));
    checkpoints.put(d.stream(), Math.max(before, checkpoint));
    ack(d.stream(), checkpoint);
  }

  private void onGap(long nowMs, Gap gap) throws ProtocolException, CloudStore.SequenceException {
    requireActive("Gap");
    if (!ProtocolLimits.isValidStreamName(gap.getStream())) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH, "invalid stream name '" + gap.getStream() + "' in Gap");
    }
    // uint64 on the wire: values of 2^63 and above arrive negative, and fail these checks too.
    if (gap.getFirstSequence() < 1 || gap.getLastSequence() < gap.getFirstSequence()) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH,
          "Gap range "
              + Long.toUnsignedString(gap.getFirstSequence())
              + ".."
              + Long.toUnsignedString(gap.getLastSequence())
              + " is empty or outside 1.."
              + Long.MAX_VALUE);
    }
    // An unknown reason has no number a store could write (getNumber() throws): refuse it here.
    if (gap.getReason() == GapReason.UNRECOGNIZED) {
      throw new ProtocolException(
          ErrorCode.INVALID_BATCH, "unknown gap reason " + gap.getReasonValue() + " in Gap");
    }
    long checkpoint =
        store.commitGap(
            deviceId,
            gap.getStream(),
            gap.getFirstSequence(),
            gap.getLastSequence(),
            gap.getReason(),
            gap.getDroppedAtMs(),
            nowMs);
    checkpoints.merge(gap.getStream(), checkpoint, Math::max);
    batches.onGap(gap.getStream(), gap.getLastSequence());
    ack(gap.getStream(), checkpoint);
  }

  private void onHeartbeat(long nowMs, Heartbeat heartbeat) {
    if (!heartbeat.getReply()) {
      io.send(Frames.heartbeat(nowMs, true));
    }
  }

  /**
   * Renewal: the signer answers, for the certificate's own device id only; the session goes on
   * whatever the answer.
   */
  private void onCertificateRequest(CertificateRequest request) throws ProtocolException {
    requireActive("CertificateRequest");
    CertificateIssued answer =
        certificateSigner == null
            ? CertificateIssued.newBuilder()
                .setRefusal("no_ca: this server does not sign certificates")
                .build()
            : certificateSigner.sign(authenticatedDeviceId, request);
    io.send(Frame.newBuilder().setCertificateIssued(answer).build());
  }

  private void requireActive(String what) throws ProtocolException {
    if (state != State.ACTIVE) {
      throw new ProtocolException(ErrorCode.PROTOCOL_VIOLATION, what + " before Hello");
    }
  }

  private void ack(String stream, long sequence) {
    io.send(Frames.ack(stream, sequence));
  }

  /**
   * A newer session of the device, through another server node, took over: this one ends without an
   * error (the device is already talking to the other node, or will on its next connection).
   */
  public synchronized void replaced(String reason) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    releaseBatches();
    io.replaced(reason);
  }

  private void fail(ErrorCode code, String message) {
    io.send(Frames.error(code, message, true));
    state = State.CLOSED;
    releaseBatches();
    io.close(code + ": " + message);
  }

  private void releaseBatches() {
    if (batches != null) {
      batches.close();
      batches = null;
    }
  }
}

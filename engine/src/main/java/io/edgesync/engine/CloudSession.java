package io.edgesync.engine;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.Heartbeat;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cloud side of one device session, as a state machine without I/O: frames in, frames out
 * through {@link Io}, data into the {@link CloudStore}. An ack is sent only after the store's
 * commit returned, i.e. after the data is durable.
 *
 * <p>Every protocol error is answered with an Error frame naming the problem and then the session
 * is closed; nothing of the offending frame is stored. Not thread safe: the transport delivers one
 * session's frames one at a time.
 */
public final class CloudSession {
  /** Where the session's outputs go. */
  public interface Io {
    void send(Frame frame);

    void close(String reason);
  }

  /** Lifecycle: AWAIT_HELLO → ACTIVE → CLOSED, or AWAIT_HELLO → CLOSED. */
  public enum State {
    AWAIT_HELLO,
    ACTIVE,
    CLOSED
  }

  private final ServerPolicy policy;
  private final CloudStore store;
  private final Io io;
  private State state = State.AWAIT_HELLO;
  private String deviceId;
  private long recordsCommitted;

  /** The stream checkpoints as this session last saw them: to count only new records. */
  private final Map<String, Long> checkpoints = new java.util.HashMap<>();

  public CloudSession(ServerPolicy policy, CloudStore store, Io io) {
    this.policy = policy;
    this.store = store;
    this.io = io;
  }

  /** One binary frame arrived. */
  public void onFrame(long nowMs, byte[] bytes) {
    if (state == State.CLOSED) {
      return;
    }
    try {
      Frame frame = FrameCodec.decode(bytes, policy.maxFrameBytes());
      switch (frame.getBodyCase()) {
        case HELLO -> onHello(nowMs, frame.getHello());
        case BATCH -> onBatch(nowMs, frame.getBatch());
        case GAP -> onGap(nowMs, frame.getGap());
        case HEARTBEAT -> onHeartbeat(nowMs, frame.getHeartbeat());
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
    } catch (RuntimeException e) {
      fail(ErrorCode.INTERNAL, "server error: " + e);
    }
  }

  /** The transport closed. */
  public void onClosed(long nowMs) {
    if (deviceId != null && state == State.ACTIVE) {
      store.touchDevice(deviceId, nowMs);
    }
    state = State.CLOSED;
  }

  public State state() {
    return state;
  }

  /** The device's id once the handshake is done, else null. */
  public String deviceId() {
    return state == State.AWAIT_HELLO ? null : deviceId;
  }

  /** Records this session stored (resent records the store skipped are not counted). */
  public long recordsCommitted() {
    return recordsCommitted;
  }

  private void onHello(long nowMs, Hello hello) throws ProtocolException {
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
    if (!ProtocolLimits.isValidDeviceId(hello.getDeviceId())) {
      throw new ProtocolException(
          ErrorCode.UNKNOWN_DEVICE,
          "invalid device id '"
              + hello.getDeviceId()
              + "': must match "
              + ProtocolLimits.DEVICE_ID_PATTERN);
    }
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
    if (!hello.getStoreId().isEmpty()) {
      String bound = store.bindStore(hello.getDeviceId(), hello.getStoreId());
      if (!bound.equals(hello.getStoreId())) {
        throw new ProtocolException(
            ErrorCode.STORE_MISMATCH,
            "device '"
                + hello.getDeviceId()
                + "' connected with outbox store "
                + hello.getStoreId()
                + " but its data in the cloud came from store "
                + bound
                + "; a reset store restarts sequences at 1 and would collide. Restore the"
                + " device's store, or give the device a new id");
      }
    }
    deviceId = hello.getDeviceId();
    store.touchDevice(deviceId, nowMs);
    state = State.ACTIVE;
    Welcome.Builder welcome =
        Welcome.newBuilder()
            .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
            .setServerVersion(policy.serverVersion())
            .setMaxFrameBytes(policy.maxFrameBytes())
            .setMaxRecordsPerBatch(policy.maxRecordsPerBatch())
            .setHeartbeatIntervalMs((int) policy.heartbeatIntervalMs());
    checkpoints.putAll(store.checkpoints(deviceId));
    for (Map.Entry<String, Long> cp : new TreeMap<>(checkpoints).entrySet()) {
      welcome.addCheckpoints(
          StreamCheckpoint.newBuilder().setStream(cp.getKey()).setSequence(cp.getValue()));
    }
    io.send(Frame.newBuilder().setWelcome(welcome).build());
  }

  private void onBatch(long nowMs, RecordBatch batch)
      throws ProtocolException, CloudStore.SequenceException {
    requireActive("RecordBatch");
    List<Record> records = FrameCodec.records(batch, policy.maxRecordsPerBatch());
    long checkpoint = store.commitRecords(deviceId, batch.getStream(), records, nowMs);
    long before = checkpoints.getOrDefault(batch.getStream(), 0L);
    // Records at or below the earlier checkpoint were a resend the store skipped.
    recordsCommitted += Math.max(0, checkpoint - Math.max(before, batch.getFirstSequence() - 1));
    checkpoints.put(batch.getStream(), Math.max(before, checkpoint));
    ack(batch.getStream(), checkpoint);
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
    ack(gap.getStream(), checkpoint);
  }

  private void onHeartbeat(long nowMs, Heartbeat heartbeat) {
    if (!heartbeat.getReply()) {
      io.send(Frames.heartbeat(nowMs, true));
    }
  }

  private void requireActive(String what) throws ProtocolException {
    if (state != State.ACTIVE) {
      throw new ProtocolException(ErrorCode.PROTOCOL_VIOLATION, what + " before Hello");
    }
  }

  private void ack(String stream, long sequence) {
    io.send(Frames.ack(stream, sequence));
  }

  private void fail(ErrorCode code, String message) {
    io.send(Frames.error(code, message, true));
    state = State.CLOSED;
    io.close(code + ": " + message);
  }
}

package io.edgesync.agent.internal.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttSubAckPayload;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's MQTT session on the listener: CONNECT (credentials, client id, keep-alive), PUBLISH
 * to the outbox with PUBACK only once durable and in the order received, SUBSCRIBE to documents and
 * commands, and every refusal with its reason code (MQTT 5) or a disconnect (3.1.1).
 *
 * <p>Lifecycle: {@code AWAIT_CONNECT → OPEN → CLOSING → CLOSED}; CLOSING stops reading and waits
 * for the messages before the cause to be acknowledged, then sends DISCONNECT (MQTT 5) and closes.
 *
 * <p>Not thread safe: every field is owned by the listener's event loop.
 */
final class MqttConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(MqttConnection.class);

  enum State {
    AWAIT_CONNECT,
    OPEN,
    CLOSING,
    CLOSED
  }

  /**
   * A QoS 1 message's acknowledgement, or a marker that closes the connection once every message
   * before it is acknowledged. Owned by the event loop.
   */
  static final class Ack {
    final int packetId; // -1: the closing marker
    boolean done;
    boolean counted; // a refusal already counted when it was decided
    byte code;
    String reason;

    Ack(int packetId) {
      this.packetId = packetId;
    }

    void complete(byte code, String reason) {
      this.done = true;
      this.code = code;
      this.reason = reason;
    }
  }

  private final ListenerContext shared;
  private final ArrayDeque<Ack> acks = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private State state = State.AWAIT_CONNECT;
  private boolean v5;
  private String clientId;
  private int unacked; // QoS 1 messages received and not yet acknowledged
  private boolean writesPending;
  private int nextPacketId = 1;
  private long clientMaxPacketBytes = Long.MAX_VALUE; // MQTT 5 CONNECT's Maximum Packet Size
  private ScheduledFuture<?> connectTimeout;
  private String closeReason = "client_closed";

  MqttConnection(ListenerContext shared) {
    this.shared = shared;
  }

  boolean isV5() {
    return v5;
  }

  String clientId() {
    return clientId;
  }

  // ---------------------------------------------------------------- channel events

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    connectTimeout =
        ctx.executor()
            .schedule(
                () -> {
                  if (state == State.AWAIT_CONNECT) {
                    closeNow("connect_timeout");
                  }
                },
                shared.settings.connectTimeoutMs(),
                TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MqttMessage m = (MqttMessage) msg;
    try {
      if (state == State.CLOSING || state == State.CLOSED) {
        if (m.fixedHeader() != null && m.fixedHeader().messageType() == MqttMessageType.PUBLISH) {
          shared.metrics.received(m.fixedHeader().qosLevel().value());
          shared.metrics.refused(m.fixedHeader().qosLevel().value(), "connection_closing");
        }
        return;
      }
      if (m.decoderResult().isFailure()) {
        malformed(m.decoderResult().cause());
        return;
      }
      dispatch(m);
    } finally {
      io.netty.util.ReferenceCountUtil.release(m);
    }
  }

  private void dispatch(MqttMessage m) {
    MqttMessageType type = m.fixedHeader().messageType();
    if (state == State.AWAIT_CONNECT) {
      if (type != MqttMessageType.CONNECT) {
        closeNow("protocol_error");
        return;
      }
      onConnect((MqttConnectMessage) m);
      return;
    }
    switch (type) {
      case PUBLISH -> onPublish((MqttPublishMessage) m);
      case PUBACK -> {} // a subscriber acknowledged a QoS 1 delivery: nothing is resent anyway
      case PINGREQ -> write(new MqttMessage(fixed(MqttMessageType.PINGRESP)));
      case SUBSCRIBE -> onSubscribe((MqttSubscribeMessage) m);
      case UNSUBSCRIBE -> onUnsubscribe((MqttUnsubscribeMessage) m);
      case DISCONNECT -> {
        closeReason = "client_disconnect";
        ctx.close();
      }
      case PUBREC, PUBREL, PUBCOMP ->
          closeAfterAcks(
              ReasonCodes.QOS_NOT_SUPPORTED,
              "qos_not_supported",
              type + " (QoS 2 is not supported)");
      default ->
          closeAfterAcks(
              ReasonCodes.PROTOCOL_ERROR,
              "protocol_error",
              "unexpected " + type + " from a client");
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flushIfPending();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      closeAfterAcks(
          ReasonCodes.KEEP_ALIVE_TIMEOUT,
          "keep_alive_timeout",
          "no packet within 1.5 x keep-alive");
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException
        && cause.getCause() instanceof javax.net.ssl.SSLException) {
      // A client without the right TLS settings, or a port scan: not the listener's fault.
      closeReason = "tls_error";
      log.info("MQTT: {}: TLS failed: {}", describe(), cause.getCause().getMessage());
    } else if (cause instanceof java.io.IOException) {
      closeReason = "connection_reset";
      log.debug("MQTT: {}: {}", describe(), cause.toString());
    } else {
      closeReason = "error";
      log.warn("MQTT: {}: closing after an error", describe(), cause);
    }
    if (state == State.AWAIT_CONNECT) {
      shared.metrics.connectionRefused(closeReason); // counted here: it never was a session
      state = State.CLOSED;
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (connectTimeout != null) {
      connectTimeout.cancel(false);
    }
    if (state == State.OPEN || state == State.CLOSING) {
      shared.metrics.connectionClosed();
      shared.metrics.disconnected(closeReason);
      if (clientId != null && shared.clients.get(clientId) == this) {
        shared.clients.remove(clientId);
      }
      shared.subscriptions.connectionClosed(this);
    }
    state = State.CLOSED;
    drainAcks(); // the ones already durable or refused are counted now, the others when they finish
    ctx.fireChannelInactive();
  }

  // ---------------------------------------------------------------- CONNECT

  private void onConnect(MqttConnectMessage m) {
    connectTimeout.cancel(false);
    int version = m.variableHeader().version();
    v5 = version == 5;
    if (refused(m)) {
      return;
    }
    String id = m.payload().clientIdentifier();
    boolean assigned = id == null || id.isEmpty();
    if (assigned) {
      if (!v5 && !m.variableHeader().isCleanSession()) {
        refuseConnect(
            MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED, "client_id_rejected");
        return;
      }
      id = shared.assignClientId();
    }
    clientId = id;
    MqttProperties.MqttProperty<?> max =
        m.variableHeader()
            .properties()
            .getProperty(MqttProperties.MqttPropertyType.MAXIMUM_PACKET_SIZE.value());
    if (max != null && max.value() instanceof Integer bytes) {
      clientMaxPacketBytes = Integer.toUnsignedLong(bytes);
    }
    MqttConnection previous = shared.clients.put(id, this);
    if (previous != null && previous != this) {
      previous.closeAfterAcks(
          ReasonCodes.SESSION_TAKEN_OVER,
          "session_taken_over",
          "client id " + id + " connected again");
    }
    int keepAlive = m.variableHeader().keepAliveTimeSeconds();
    if (keepAlive > 0) {
      long idleMs = keepAlive * 1500L; // MQTT: 1.5 times the keep-alive without a packet
      ctx.pipeline()
          .addBefore(
              ctx.name(), "keepalive", new IdleStateHandler(idleMs, 0, 0, TimeUnit.MILLISECONDS));
    }
    state = State.OPEN;
    shared.metrics.connected();
    ctx.writeAndFlush(connAck(MqttConnectReturnCode.CONNECTION_ACCEPTED, assigned ? id : null, m));
  }

  /** Refuses the connection for bad credentials or too many clients: true if it did. */
  private boolean refused(MqttConnectMessage m) {
    MqttCredentials credentials = shared.credentials;
    if (credentials != null) {
      String user = m.variableHeader().hasUserName() ? m.payload().userName() : null;
      byte[] password = m.variableHeader().hasPassword() ? m.payload().passwordInBytes() : null;
      if (user == null || password == null) {
        refuseConnect(
            v5
                ? MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5
                : MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
            "no_credentials");
        return true;
      }
      if (!credentials.check(user, password)) {
        refuseConnect(
            v5
                ? MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD
                : MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
            "bad_credentials");
        return true;
      }
    }
    // A client taking over its own session reuses its slot: a device whose old connection is
    // half open must get back in when the listener is full.
    String id = m.payload().clientIdentifier();
    boolean takeover = id != null && shared.clients.containsKey(id);
    if (!takeover && shared.clients.size() >= shared.settings.maxConnections()) {
      refuseConnect(
          v5
              ? MqttConnectReturnCode.CONNECTION_REFUSED_QUOTA_EXCEEDED
              : MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          "max_connections");
      return true;
    }
    return false;
  }

  private void refuseConnect(MqttConnectReturnCode code, String reason) {
    shared.metrics.connectionRefused(reason);
    state = State.CLOSED;
    ctx.writeAndFlush(connAck(code, null, null)).addListener(ChannelFutureListener.CLOSE);
  }

  private MqttConnAckMessage connAck(
      MqttConnectReturnCode code, String assignedId, MqttConnectMessage connect) {
    MqttMessageBuilders.ConnAckBuilder b =
        MqttMessageBuilders.connAck().returnCode(code).sessionPresent(false);
    if (v5 && code == MqttConnectReturnCode.CONNECTION_ACCEPTED) {
      b.properties(
          p -> {
            p.receiveMaximum(shared.settings.maxInflightMessages())
                .maximumQos((byte) 1)
                .maximumPacketSize(shared.settings.maxPacketBytes())
                .wildcardSubscriptionAvailable(true)
                .subscriptionIdentifiersAvailable(false)
                .sharedSubscriptionAvailable(false);
            if (assignedId != null) {
              p.assignedClientId(assignedId);
            }
            // Sessions last as long as the connection: say so when the client asked for more.
            MqttProperties.MqttProperty<?> expiry =
                connect
                    .variableHeader()
                    .properties()
                    .getProperty(MqttProperties.MqttPropertyType.SESSION_EXPIRY_INTERVAL.value());
            if (expiry != null) {
              p.sessionExpiryInterval(0);
            }
          });
    } else if (v5) {
      b.properties(p -> p.reasonString(code.name()));
    }
    return b.build();
  }

  // ---------------------------------------------------------------- PUBLISH

  private void onPublish(MqttPublishMessage m) {
    int qos = m.fixedHeader().qosLevel().value();
    shared.metrics.received(qos);
    if (qos == 2) {
      shared.metrics.refused(2, "qos_not_supported");
      closeAfterAcks(
          ReasonCodes.QOS_NOT_SUPPORTED,
          "qos_not_supported",
          "QoS 2 is not supported; publish with QoS 0 or 1");
      return;
    }
    int packetId = m.variableHeader().packetId();
    String topic = m.variableHeader().topicName();
    if (qos == 1 && unacked >= shared.settings.maxInflightMessages()) {
      shared.metrics.refused(1, "receive_maximum_exceeded");
      closeAfterAcks(
          ReasonCodes.RECEIVE_MAXIMUM_EXCEEDED,
          "receive_maximum_exceeded",
          "more than " + shared.settings.maxInflightMessages() + " unacknowledged QoS 1 messages");
      return;
    }
    if (topic == null || topic.isEmpty() || TopicFilter.nameProblem(topic) != null) {
      refuse(qos, packetId, ReasonCodes.TOPIC_NAME_INVALID, "invalid_topic");
      return;
    }
    if (shared.subscriptions.handles(topic)) {
      onPrefixPublish(qos, packetId, topic, m.payload());
      return;
    }
    String stream = shared.streamFor(topic);
    if (stream == null) {
      refuse(qos, packetId, ReasonCodes.TOPIC_NAME_INVALID, "unmapped_topic");
      return;
    }
    Ack ack = null;
    if (qos == 1) {
      ack = new Ack(packetId);
      acks.add(ack);
      unacked++;
    }
    shared.batcher.add(
        stream, MqttEnvelope.wrap(topic, ByteBufUtil.getBytes(m.payload())), this, ack);
  }

  /** A publish under the prefix: a command's result, or a refused write to documents. */
  private void onPrefixPublish(int qos, int packetId, String topic, ByteBuf payload) {
    String problem =
        shared.subscriptions.publishUnderPrefix(this, topic, ByteBufUtil.getBytes(payload));
    if (problem == null) {
      if (qos == 1) {
        Ack ack = new Ack(packetId);
        ack.complete(ReasonCodes.SUCCESS, null);
        acks.add(ack);
        unacked++;
        drainAcks();
      }
      return;
    }
    refuse(
        qos,
        packetId,
        problem.equals("read_only") ? ReasonCodes.NOT_AUTHORIZED : ReasonCodes.TOPIC_NAME_INVALID,
        problem);
  }

  /**
   * Refuses one message: counted; QoS 1 on MQTT 5 gets a PUBACK with {@code code} in its turn; QoS
   * 1 on 3.1.1 (no negative PUBACK) closes the connection; QoS 0 is only counted.
   */
  private void refuse(int qos, int packetId, byte code, String reason) {
    shared.metrics.refused(qos, reason);
    if (qos == 0) {
      log.debug("MQTT: {}: QoS 0 message dropped: {}", describe(), reason);
      return;
    }
    if (!v5) {
      closeAfterAcks(code, reason, reason);
      return;
    }
    Ack ack = new Ack(packetId);
    ack.complete(code, reason);
    ack.counted = true;
    acks.add(ack);
    unacked++;
    drainAcks();
  }

  /**
   * Writes the PUBACKs that are due, in the order the messages came, and flushes them once: called
   * after acknowledgements completed. A failed one on 3.1.1 closes the connection instead.
   */
  void drainAcks() {
    if (state == State.CLOSED) {
      // The connection ended first: durable ones are stored but the client never got their
      // PUBACK (it will publish them again).
      for (Ack a : acks) {
        if (a.packetId >= 0 && a.done && a.code == ReasonCodes.SUCCESS) {
          shared.metrics.storedUnacknowledged();
        } else if (a.packetId >= 0 && a.done && !a.counted) {
          shared.metrics.refused(1, a.reason);
        }
      }
      acks.removeIf(a -> a.done);
      return;
    }
    while (!acks.isEmpty() && acks.peek().done) {
      Ack a = acks.poll();
      if (a.packetId < 0) {
        finishClosing(a);
        return;
      }
      unacked--;
      if (a.code != ReasonCodes.SUCCESS && !a.counted) {
        shared.metrics.refused(1, a.reason); // found at completion: queue full, storage error
      }
      if (a.code != ReasonCodes.SUCCESS && !v5) {
        // 3.1.1 has no negative PUBACK: the client learns by the connection closing, and resends.
        // CLOSING, not CLOSED: channelInactive then frees the client id, the max_connections slot
        // and the subscriptions, and counts the acknowledgements still pending when they finish.
        closeReason = a.reason;
        state = State.CLOSING;
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
            .addListener(ChannelFutureListener.CLOSE);
        return;
      }
      if (a.code == ReasonCodes.SUCCESS) {
        shared.metrics.acknowledged();
      }
      write(pubAck(a));
    }
    flushIfPending();
  }

  private MqttMessage pubAck(Ack a) {
    MqttMessageBuilders.PubAckBuilder b = MqttMessageBuilders.pubAck().packetId(a.packetId);
    if (v5 && a.code != ReasonCodes.SUCCESS) {
      MqttProperties props = new MqttProperties();
      props.add(
          new MqttProperties.StringProperty(
              MqttProperties.MqttPropertyType.REASON_STRING.value(), a.reason));
      b.reasonCode(a.code).properties(props);
    }
    return b.build();
  }

  // ---------------------------------------------------------------- SUBSCRIBE

  private void onSubscribe(MqttSubscribeMessage m) {
    List<Integer> codes = new ArrayList<>();
    List<MqttTopicSubscription> granted = new ArrayList<>();
    for (MqttTopicSubscription s : m.payload().topicSubscriptions()) {
      int code = shared.subscriptions.check(s.topicFilter(), v5);
      if (code < 0x80) {
        code = Math.min(s.qualityOfService().value(), 1);
        granted.add(s);
      }
      codes.add(code);
    }
    int packetId = m.idAndPropertiesVariableHeader().messageId();
    MqttFixedHeader fixed =
        new MqttFixedHeader(MqttMessageType.SUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0);
    write(
        new MqttSubAckMessage(
            fixed,
            new MqttMessageIdAndPropertiesVariableHeader(packetId, MqttProperties.NO_PROPERTIES),
            new MqttSubAckPayload(codes)));
    for (MqttTopicSubscription s : granted) {
      shared.subscriptions.subscribe(
          this, s.topicFilter(), Math.min(s.qualityOfService().value(), 1));
    }
  }

  private void onUnsubscribe(MqttUnsubscribeMessage m) {
    for (String filter : m.payload().topics()) {
      shared.subscriptions.unsubscribe(this, filter);
    }
    int packetId = m.idAndPropertiesVariableHeader().messageId();
    MqttMessageBuilders.UnsubAckBuilder b = MqttMessageBuilders.unsubAck().packetId(packetId);
    if (v5) {
      for (int i = 0; i < m.payload().topics().size(); i++) {
        b.addReasonCode((short) 0);
      }
    }
    write(b.build());
  }

  /**
   * Sends a message to this subscriber at {@code qos} (0 or 1; a QoS 1 delivery is not resent:
   * sessions end with the connection). Written now, flushed by the caller with {@link
   * #flushIfPending}.
   */
  boolean deliver(String topic, byte[] payload, int qos, boolean retain) {
    if (state != State.OPEN) {
      return false;
    }
    // An upper bound of the packet's size: fixed header 5, topic, packet id 2, properties 1.
    long size = 8L + topic.length() * 3L + payload.length + 1;
    if (size > clientMaxPacketBytes) {
      log.warn(
          "MQTT: {}: not sent: a message on {} of {} bytes exceeds the client's Maximum Packet Size"
              + " {}",
          describe(),
          topic,
          payload.length,
          clientMaxPacketBytes);
      shared.metrics.sent("too_large_for_client");
      return false;
    }
    MqttMessageBuilders.PublishBuilder b =
        MqttMessageBuilders.publish()
            .topicName(topic)
            .retained(retain)
            .qos(qos == 0 ? MqttQoS.AT_MOST_ONCE : MqttQoS.AT_LEAST_ONCE)
            .payload(io.netty.buffer.Unpooled.wrappedBuffer(payload));
    if (qos > 0) {
      b.messageId(nextPacketId);
      nextPacketId = nextPacketId == 65_535 ? 1 : nextPacketId + 1;
    }
    write(b.build());
    return true;
  }

  // ---------------------------------------------------------------- closing

  /** A packet the decoder could not read: MQTT 5 gets DISCONNECT with a reason; then close. */
  private void malformed(Throwable cause) {
    boolean tooLong = cause instanceof TooLongFrameException;
    String what =
        cause instanceof DecoderException && cause.getCause() != null
            ? cause.getCause().toString()
            : String.valueOf(cause.getMessage());
    log.info("MQTT: {}: {} packet: {}", describe(), tooLong ? "oversized" : "malformed", what);
    if (state == State.AWAIT_CONNECT) {
      closeReason = "malformed_packet";
      shared.metrics.connectionRefused("malformed_packet");
      state = State.CLOSED;
      ctx.close();
      return;
    }
    closeAfterAcks(
        tooLong ? ReasonCodes.PACKET_TOO_LARGE : ReasonCodes.MALFORMED_PACKET,
        tooLong ? "packet_too_large" : "malformed_packet",
        what);
  }

  /**
   * Stops reading and closes once the messages received before are acknowledged (their PUBACKs go
   * out first); an MQTT 5 client gets DISCONNECT with {@code code} and {@code detail}.
   */
  void closeAfterAcks(byte code, String reason, String detail) {
    if (state == State.AWAIT_CONNECT) {
      closeReason = reason;
      state = State.CLOSED;
      shared.metrics.connectionRefused(reason);
      ctx.close();
      return;
    }
    if (state != State.OPEN) {
      return;
    }
    log.info("MQTT: {}: disconnecting: {} ({})", describe(), reason, detail);
    state = State.CLOSING;
    closeReason = reason;
    ctx.channel().config().setAutoRead(false);
    Ack marker = new Ack(-1);
    marker.complete(code, detail);
    acks.add(marker);
    drainAcks();
  }

  private void finishClosing(Ack marker) {
    acks.clear();
    if (v5) {
      MqttProperties props = new MqttProperties();
      props.add(
          new MqttProperties.StringProperty(
              MqttProperties.MqttPropertyType.REASON_STRING.value(), truncate(marker.reason)));
      write(MqttMessageBuilders.disconnect().reasonCode(marker.code).properties(props).build());
    }
    ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
        .addListener(ChannelFutureListener.CLOSE);
  }

  private void closeNow(String reason) {
    closeReason = reason;
    if (state == State.AWAIT_CONNECT) {
      shared.metrics.connectionRefused(reason);
      state = State.CLOSED;
    }
    ctx.close();
  }

  private static String truncate(String s) {
    if (s == null) {
      return "";
    }
    return s.length() > 200 ? s.substring(0, 200) : s;
  }

  // ---------------------------------------------------------------- writing

  private void write(Object msg) {
    ctx.write(msg, ctx.voidPromise());
    writesPending = true;
  }

  /** Flushes what was written since the last flush: one syscall per batch of acknowledgements. */
  void flushIfPending() {
    if (writesPending) {
      writesPending = false;
      ctx.flush();
    }
  }

  private static MqttFixedHeader fixed(MqttMessageType type) {
    return new MqttFixedHeader(type, false, MqttQoS.AT_MOST_ONCE, false, 0);
  }

  private String describe() {
    return (clientId == null ? "client" : "client '" + clientId + "'")
        + " "
        + (ctx == null ? "" : ctx.channel().remoteAddress());
  }
}

package io.edgesync.agent.internal.mqtt;

/**
 * The MQTT 5 reason codes the listener sends (MQTT 5 §2.4), and the metric reason each stands for.
 * MQTT 3.1.1 has no negative PUBACK: where a 5 client gets one of these, a 3.1.1 client is
 * disconnected (docs/operations.md, "MQTT on the device").
 */
final class ReasonCodes {
  static final byte SUCCESS = 0x00;
  static final byte UNSPECIFIED_ERROR = (byte) 0x80;
  static final byte MALFORMED_PACKET = (byte) 0x81;
  static final byte PROTOCOL_ERROR = (byte) 0x82;
  static final byte BAD_USER_NAME_OR_PASSWORD = (byte) 0x86;
  static final byte NOT_AUTHORIZED = (byte) 0x87;
  static final byte SERVER_SHUTTING_DOWN = (byte) 0x8B;
  static final byte KEEP_ALIVE_TIMEOUT = (byte) 0x8D;
  static final byte SESSION_TAKEN_OVER = (byte) 0x8E;
  static final byte TOPIC_FILTER_INVALID = (byte) 0x8F;
  static final byte TOPIC_NAME_INVALID = (byte) 0x90;
  static final byte RECEIVE_MAXIMUM_EXCEEDED = (byte) 0x93;
  static final byte PACKET_TOO_LARGE = (byte) 0x95;
  static final byte QUOTA_EXCEEDED = (byte) 0x97;
  static final byte PAYLOAD_FORMAT_INVALID = (byte) 0x99;
  static final byte QOS_NOT_SUPPORTED = (byte) 0x9B;
  static final byte SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = (byte) 0x9E;
  static final byte SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = (byte) 0xA1;

  private ReasonCodes() {}
}

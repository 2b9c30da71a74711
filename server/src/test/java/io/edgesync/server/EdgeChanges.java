package io.edgesync.server;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.DocChange;

/** Document changes as a device sends them, for tests of the cloud's side. */
final class EdgeChanges {
  private EdgeChanges() {}

  /** A change without its body (value, patch or delete). */
  static DocChange.Builder change(
      long seq, String scope, String collection, String key, long base, Hlc hlc) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setScope(scope)
        .setCollection(collection)
        .setKey(key)
        .setBaseVersion(base)
        .setHlc(hlc.toWire());
  }

  /** The whole new value. */
  static DocChange value(
      long seq, String scope, String collection, String key, long base, Hlc hlc, String json) {
    return change(seq, scope, collection, key, base, hlc)
        .setValue(ByteString.copyFromUtf8(json))
        .build();
  }

  /** A JSON merge patch on version {@code base}. */
  static DocChange patch(
      long seq, String scope, String collection, String key, long base, Hlc hlc, String json) {
    return change(seq, scope, collection, key, base, hlc)
        .setMergePatch(ByteString.copyFromUtf8(json))
        .build();
  }

  static DocChange delete(
      long seq, String scope, String collection, String key, long base, Hlc hlc) {
    return change(seq, scope, collection, key, base, hlc).setDeleted(true).build();
  }
}

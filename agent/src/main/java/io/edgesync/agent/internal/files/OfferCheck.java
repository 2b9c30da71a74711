package io.edgesync.agent.internal.files;

import io.edgesync.engine.files.FileLimits;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.security.ReleaseKey;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Whether the device takes a download offer: a well-formed header within the size limit, signed
 * (Ed25519 over {@link FileVersion#signingInput}) by one of the release keys it trusts. Each reason
 * starts with a word naming the problem ({@code bad_path}, {@code bad_header}, {@code bad_offer},
 * {@code too_large}, {@code unsigned}, {@code no_trusted_keys}, {@code untrusted_key}, {@code
 * bad_signature}), then ": " and the detail. Immutable and thread safe.
 */
public final class OfferCheck {
  private final Map<String, PublicKey> trusted; // by key id
  private final long maxFileBytes;

  public OfferCheck(Map<String, PublicKey> trusted, long maxFileBytes) {
    this.trusted = Map.copyOf(trusted);
    this.maxFileBytes = maxFileBytes;
  }

  /** The keys of a PEM file (null: none configured), by key id. */
  public static Map<String, PublicKey> readKeys(Path file) throws IOException {
    Map<String, PublicKey> keys = new LinkedHashMap<>();
    if (file != null) {
      for (PublicKey k : ReleaseKey.readPublicKeys(file)) {
        keys.put(ReleaseKey.keyId(k), k);
      }
    }
    return keys;
  }

  public Optional<String> refusal(FileOffer offer) {
    FileHeader h = offer.getHeader();
    try {
      FileVersion.checkPath(h.getPath());
    } catch (IllegalArgumentException e) {
      return Optional.of("bad_path: " + e.getMessage());
    }
    try {
      FileVersion.check(h);
    } catch (IllegalArgumentException e) {
      return Optional.of("bad_header: " + e.getMessage());
    }
    String id = FileVersion.transferId(h.getPath(), h.getVersion());
    if (!offer.getTransferId().equals(id)) {
      return Optional.of(
          "bad_offer: transfer id '" + offer.getTransferId() + "' does not name " + id);
    }
    Optional<String> size = sizeRefusal(offer);
    return size.isPresent() ? size : signatureRefusal(offer);
  }

  private Optional<String> sizeRefusal(FileOffer offer) {
    long size = offer.getHeader().getSize();
    if (size < 0 || size > maxFileBytes) {
      return Optional.of(
          "too_large: "
              + Long.toUnsignedString(size)
              + " bytes; this device takes files of at most "
              + maxFileBytes
              + " bytes (files.max_file_bytes)");
    }
    if (offer.getChunkCount() > FileLimits.MAX_CHUNKS) {
      return Optional.of(
          "too_large: " + offer.getChunkCount() + " chunks; at most " + FileLimits.MAX_CHUNKS);
    }
    return Optional.empty();
  }

  private Optional<String> signatureRefusal(FileOffer offer) {
    if (offer.getSignature().isEmpty()) {
      return Optional.of(
          "unsigned: the offer carries no signature; this device installs only"
              + " files signed by a trusted release key");
    }
    if (trusted.isEmpty()) {
      return Optional.of(
          "no_trusted_keys: this device trusts no release key"
              + " (files.trusted_release_keys_file is not set)");
    }
    PublicKey key = trusted.get(offer.getKeyId());
    if (key == null) {
      return Optional.of(
          "untrusted_key: key id '"
              + offer.getKeyId()
              + "' is not among this device's trusted release keys "
              + trusted.keySet());
    }
    byte[] input = FileVersion.signingInput(offer.getHeader());
    if (!ReleaseKey.verify(key, input, offer.getSignature().toByteArray())) {
      return Optional.of(
          "bad_signature: the signature does not verify with release key "
              + offer.getKeyId()
              + " over "
              + offer.getTransferId());
    }
    return Optional.empty();
  }
}

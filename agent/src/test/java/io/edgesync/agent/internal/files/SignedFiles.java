package io.edgesync.agent.internal.files;

import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileMeta;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.security.ReleaseKey;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** A release key pair with its public key file, and signed offers of test content. */
final class SignedFiles {
  /** Small chunks, so that test files of a few hundred KiB have many. */
  static final FastCdc.Params SMALL = new FastCdc.Params(1024, 4096, 16384);

  final KeyPair key = ReleaseKey.generate();
  final Path publicKeyFile;

  SignedFiles(Path dir) {
    this.publicKeyFile = dir.resolve("release-keys.pem");
    try {
      ReleaseKey.writePublicKey(publicKeyFile, key.getPublic());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String keyId() {
    return ReleaseKey.keyId(key.getPublic());
  }

  /** Random bytes of a seed. */
  static byte[] content(long seed, int size) {
    byte[] b = new byte[size];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  static Manifest manifest(byte[] content) {
    return manifest(content, SMALL);
  }

  static Manifest manifest(byte[] content, FastCdc.Params params) {
    try {
      return Manifest.of(new ByteArrayInputStream(content), params);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static FileHeader header(String path, long version, Manifest m) {
    return FileHeader.newBuilder()
        .setPath(path)
        .setVersion(version)
        .setSize(m.size())
        .setSha256(ByteString.copyFrom(m.sha256()))
        .addMetadata(FileMeta.newBuilder().setKey("build").setValue("b" + version))
        .build();
  }

  /** An offer of {@code header} signed by this key. */
  FileOffer signed(FileHeader header, int chunkCount) {
    byte[] sig = ReleaseKey.sign(key.getPrivate(), FileVersion.signingInput(header));
    return FileOffer.newBuilder()
        .setTransferId(FileVersion.transferId(header.getPath(), header.getVersion()))
        .setHeader(header)
        .setChunkCount(chunkCount)
        .setSignature(ByteString.copyFrom(sig))
        .setKeyId(keyId())
        .build();
  }

  FileOffer signed(String path, long version, Manifest m) {
    return signed(header(path, version, m), m.chunkCount());
  }

  /** The chunks of {@code content} as the manifest cuts it, {@code [first, first + count)}. */
  static List<byte[]> chunks(byte[] content, Manifest m, int first, int count) {
    List<byte[]> out = new ArrayList<>();
    for (int i = first; i < first + count; i++) {
      out.add(Arrays.copyOfRange(content, (int) m.offset(i), (int) m.offset(i + 1)));
    }
    return out;
  }

  static byte[] hashes(Manifest m, int first, int count) {
    return Arrays.copyOfRange(
        m.hashes(), first * Manifest.HASH_BYTES, (first + count) * Manifest.HASH_BYTES);
  }
}

package io.edgesync.server;

import io.edgesync.security.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * The server's Ed25519 key that signs audit checkpoints. Files in the data directory: {@value
 * #PRIVATE_FILE} (PEM {@code PRIVATE KEY}, PKCS#8, created with permissions 0600 where the file
 * system has POSIX permissions) and {@value #PUBLIC_FILE} (PEM {@code PUBLIC KEY}, X.509
 * SubjectPublicKeyInfo), the one a verifier needs. Both are created on first start.
 *
 * <p>Stateless, thread safe.
 */
public final class AuditKeys {
  public static final String PRIVATE_FILE = "audit-signing.key";
  public static final String PUBLIC_FILE = "audit-signing.pub";
  private static final String ALGORITHM = "Ed25519";

  private AuditKeys() {}

  /** The key pair in {@code dataDir}, created there first if there is none. */
  public static KeyPair loadOrCreate(Path dataDir) throws IOException {
    Path privateFile = dataDir.resolve(PRIVATE_FILE);
    Path publicFile = dataDir.resolve(PUBLIC_FILE);
    if (!Files.exists(privateFile)) {
      create(privateFile, publicFile);
    }
    return new KeyPair(readPublic(publicFile), readPrivate(privateFile));
  }

  private static void create(Path privateFile, Path publicFile) throws IOException {
    KeyPair pair;
    try {
      pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no " + ALGORITHM, e);
    }
    // The private key file decides: a process that finds it taken (made by another one that got
    // there first) uses that one, and writes no public key of its own.
    if (Pem.writeAtomicallyIfAbsent(
        privateFile, pem("PRIVATE KEY", pair.getPrivate().getEncoded()), true)) {
      Pem.writeAtomically(publicFile, pem("PUBLIC KEY", pair.getPublic().getEncoded()), false);
    }
  }

  /** The public key in a PEM file; an exception naming the file if it holds none. */
  public static PublicKey readPublic(Path file) throws IOException {
    try {
      return KeyFactory.getInstance(ALGORITHM)
          .generatePublic(new X509EncodedKeySpec(unpem(file, "PUBLIC KEY")));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(file + " does not hold an Ed25519 public key: " + e.getMessage(), e);
    }
  }

  static PrivateKey readPrivate(Path file) throws IOException {
    try {
      return KeyFactory.getInstance(ALGORITHM)
          .generatePrivate(new PKCS8EncodedKeySpec(unpem(file, "PRIVATE KEY")));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(file + " does not hold an Ed25519 private key: " + e.getMessage(), e);
    }
  }

  /** A short id of a public key: the first 8 bytes of the SHA-256 of its encoding, in hex. */
  public static String keyId(PublicKey key) {
    return AuditChain.hex(Arrays.copyOf(AuditChain.sha256(key.getEncoded()), 8));
  }

  static byte[] sign(PrivateKey key, byte[] message) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(key);
      s.update(message);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the audit key: " + e.getMessage(), e);
    }
  }

  static boolean verify(PublicKey key, byte[] message, byte[] signature) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  private static byte[] unpem(Path file, String type) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int from = text.indexOf(begin);
    int to = text.indexOf(end);
    if (from < 0 || to < from) {
      throw new IllegalArgumentException("no " + begin + " block");
    }
    return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
  }
}

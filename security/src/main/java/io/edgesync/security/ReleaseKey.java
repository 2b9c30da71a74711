package io.edgesync.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Ed25519 release keys: the publisher signs every cloud-to-edge file version with the private key,
 * and devices install only what a public key they trust verified (docs/files.md, "Signatures").
 *
 * <p>Files: the private key is PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}), written 0600; the
 * public key is SubjectPublicKeyInfo PEM ({@code -----BEGIN PUBLIC KEY-----}), as {@code openssl
 * genpkey -algorithm ed25519} and {@code openssl pkey -pubout} write them, so keys made by either
 * work with the other. A key's id is the first 16 hex digits of the SHA-256 of its public key's DER
 * encoding. Stateless and thread safe.
 */
public final class ReleaseKey {
  /** Bytes of an Ed25519 signature. */
  public static final int SIGNATURE_BYTES = 64;

  private static final String ALGORITHM = "Ed25519";

  private ReleaseKey() {}

  /** A new key pair. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no Ed25519", e);
    }
  }

  /** Writes the private key (0600, atomically); fails if the file exists. */
  public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
    if (Files.exists(file)) {
      throw new IOException(file + " already exists; refusing to overwrite a release key");
    }
    Pem.writeAtomically(file, pem("PRIVATE KEY", key.getEncoded()), true);
  }

  public static void writePublicKey(Path file, PublicKey key) throws IOException {
    Pem.writeAtomically(file, pem("PUBLIC KEY", key.getEncoded()), false);
  }

  public static PrivateKey readPrivateKey(Path file) throws IOException {
    byte[] der = der(file, "PRIVATE KEY");
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IOException(file + ": not an Ed25519 PRIVATE KEY: " + e.getMessage(), e);
    }
  }

  /** Every public key in the file (one or more PEM blocks). */
  public static List<PublicKey> readPublicKeys(Path file) throws IOException {
    List<PublicKey> keys = new ArrayList<>();
    for (byte[] der : ders(file, "PUBLIC KEY")) {
      try {
        keys.add(KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der)));
      } catch (GeneralSecurityException e) {
        throw new IOException(file + ": not an Ed25519 PUBLIC KEY: " + e.getMessage(), e);
      }
    }
    if (keys.isEmpty()) {
      throw new IOException(file + ": no PEM PUBLIC KEY found");
    }
    return keys;
  }

  /** The public key of a private key file's key (Ed25519 derives it from the private key). */
  public static PublicKey publicKeyOf(PrivateKey key) {
    try {
      // The JDK's Ed25519 PKCS#8 encoding has no public key; sign-and-derive is not exposed, so
      // rebuild it from the encoding through the named-curve point multiplication of the JDK.
      var spec =
          KeyFactory.getInstance(ALGORITHM)
              .getKeySpec(key, java.security.spec.EdECPrivateKeySpec.class);
      byte[] seed = spec.getBytes();
      KeyPairGenerator g = KeyPairGenerator.getInstance(ALGORITHM);
      g.initialize(java.security.spec.NamedParameterSpec.ED25519, new FixedSeed(seed));
      return g.generateKeyPair().getPublic();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot derive the Ed25519 public key", e);
    }
  }

  /** The key's id: 16 hex digits of the SHA-256 of its DER encoding. */
  public static String keyId(PublicKey key) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static byte[] sign(PrivateKey key, byte[] input) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(key);
      s.update(input);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed: " + e.getMessage(), e);
    }
  }

  /** True when {@code signature} is {@code key}'s valid Ed25519 signature of {@code input}. */
  public static boolean verify(PublicKey key, byte[] input, byte[] signature) {
    if (signature.length != SIGNATURE_BYTES) {
      return false;
    }
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(input);
      return s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static byte[] der(Path file, String type) throws IOException {
    List<byte[]> all = ders(file, type);
    if (all.isEmpty()) {
      throw new IOException(file + ": no PEM " + type + " found");
    }
    return all.get(0);
  }

  private static List<byte[]> ders(Path file, String type) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    List<byte[]> out = new ArrayList<>();
    int at = 0;
    while ((at = text.indexOf(begin, at)) >= 0) {
      int stop = text.indexOf(end, at);
      if (stop < 0) {
        throw new IOException(file + ": PEM " + type + " block without its END line");
      }
      String body = text.substring(at + begin.length(), stop).replaceAll("\\s", "");
      try {
        out.add(Base64.getDecoder().decode(body));
      } catch (IllegalArgumentException e) {
        throw new IOException(file + ": bad base64 in PEM " + type + ": " + e.getMessage(), e);
      }
      at = stop + end.length();
    }
    return out;
  }

  /** A SecureRandom that yields one fixed seed: how the JDK derives a public key from a seed. */
  private static final class FixedSeed extends java.security.SecureRandom {
    private final byte[] seed;

    FixedSeed(byte[] seed) {
      this.seed = seed.clone();
    }

    @Override
    public void nextBytes(byte[] bytes) {
      System.arraycopy(seed, 0, bytes, 0, Math.min(seed.length, bytes.length));
    }
  }
}

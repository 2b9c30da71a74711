package io.edgesync.engine.files;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A file version's chunks: their lengths and SHA-256 hashes in file order, with the whole file's
 * size and SHA-256. Immutable; {@link #of(InputStream, FastCdc.Params)} cuts a stream with FastCDC
 * holding at most two maximum chunks in memory.
 *
 * <p>Hashes are kept in one array, 32 bytes per chunk, so that a 1 GiB file's manifest (about
 * 16,000 chunks) is half a megabyte, not 16,000 objects.
 */
public final class Manifest {
  public static final int HASH_BYTES = 32;

  private final long size;
  private final byte[] sha256;
  private final int[] lengths;
  private final byte[] hashes;
  private final long[] offsets;

  public Manifest(long size, byte[] sha256, int[] lengths, byte[] hashes) {
    if (sha256.length != HASH_BYTES) {
      throw new IllegalArgumentException("file sha256 must be 32 bytes, was " + sha256.length);
    }
    if (hashes.length != lengths.length * HASH_BYTES) {
      throw new IllegalArgumentException(
          "manifest has " + lengths.length + " chunks but " + hashes.length + " hash bytes");
    }
    this.offsets = new long[lengths.length + 1];
    for (int i = 0; i < lengths.length; i++) {
      if (lengths[i] <= 0) {
        throw new IllegalArgumentException("chunk " + i + " has length " + lengths[i]);
      }
      offsets[i + 1] = offsets[i] + lengths[i];
    }
    if (offsets[lengths.length] != size) {
      throw new IllegalArgumentException(
          "chunk lengths add up to " + offsets[lengths.length] + " bytes, the file has " + size);
    }
    this.size = size;
    this.sha256 = sha256.clone();
    this.lengths = lengths.clone();
    this.hashes = hashes.clone();
  }

  /** Cuts {@code in} into chunks and hashes them and the whole; does not close the stream. */
  public static Manifest of(InputStream in, FastCdc.Params params) throws IOException {
    MessageDigest whole = newDigest();
    MessageDigest chunk = newDigest();
    FastCdc.Chunks chunks = new FastCdc.Chunks(in, params);
    IntList lengths = new IntList();
    ByteArrayOutputStream hashes = new ByteArrayOutputStream();
    long size = 0;
    for (FastCdc.Chunk c = chunks.next(); c != null; c = chunks.next()) {
      whole.update(c.data());
      hashes.writeBytes(chunk.digest(c.data()));
      lengths.add(c.data().length);
      size += c.data().length;
    }
    return new Manifest(size, whole.digest(), lengths.toArray(), hashes.toByteArray());
  }

  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  public long size() {
    return size;
  }

  public byte[] sha256() {
    return sha256.clone();
  }

  public int chunkCount() {
    return lengths.length;
  }

  public int length(int chunk) {
    return lengths[chunk];
  }

  /** Byte offset of a chunk in the file; {@code offset(chunkCount())} is the size. */
  public long offset(int chunk) {
    return offsets[chunk];
  }

  public byte[] hash(int chunk) {
    return Arrays.copyOfRange(hashes, chunk * HASH_BYTES, (chunk + 1) * HASH_BYTES);
  }

  public String hashHex(int chunk) {
    return HexFormat.of().formatHex(hashes, chunk * HASH_BYTES, (chunk + 1) * HASH_BYTES);
  }

  /** All lengths, a copy. */
  public int[] lengths() {
    return lengths.clone();
  }

  /** All hashes, 32 bytes per chunk, a copy. */
  public byte[] hashes() {
    return hashes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Manifest m
        && size == m.size
        && Arrays.equals(sha256, m.sha256)
        && Arrays.equals(lengths, m.lengths)
        && Arrays.equals(hashes, m.hashes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(sha256);
  }

  @Override
  public String toString() {
    return "Manifest{"
        + size
        + " bytes, "
        + lengths.length
        + " chunks, sha256 "
        + HexFormat.of().formatHex(sha256)
        + "}";
  }

  private static final class IntList {
    private int[] values = new int[64];
    private int size;

    void add(int v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}

package io.edgesync.protocol.codec;

import com.github.luben.zstd.ZstdDictCompress;
import com.github.luben.zstd.ZstdDictDecompress;
import com.github.luben.zstd.ZstdDictTrainer;
import com.github.luben.zstd.ZstdException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A zstd dictionary with the id under which peers know it. The cloud trains one per collection from
 * records it received ({@link #train}), stores it, and ships it to devices; a batch compressed with
 * it names the id, and the decoder must hold the same bytes under that id. Ids are versions: a
 * retrained dictionary gets a new id, never reuses one.
 *
 * <p>Immutable and thread safe; the native forms are built on first use and shared.
 */
public final class Dictionary {
  /** Largest dictionary accepted, in bytes. */
  public static final int MAX_DICTIONARY_BYTES = 1 << 20;

  private static final int ZSTD_DICT_MAGIC = 0xEC30A437;

  private final int id;
  private final byte[] bytes;
  private final Map<Integer, ZstdDictCompress> compressors = new HashMap<>();
  private ZstdDictDecompress decompressor;

  private Dictionary(int id, byte[] bytes) {
    if (id <= 0) {
      throw new IllegalArgumentException("dictionary id must be positive, was " + id);
    }
    if (bytes.length == 0 || bytes.length > MAX_DICTIONARY_BYTES) {
      throw new IllegalArgumentException(
          "dictionary must have 1.." + MAX_DICTIONARY_BYTES + " bytes, has " + bytes.length);
    }
    this.id = id;
    this.bytes = bytes;
  }

  /** A dictionary received or loaded from storage: zstd format, or raw content. */
  public static Dictionary of(int id, byte[] bytes) {
    return new Dictionary(id, bytes.clone());
  }

  /**
   * A dictionary received from a peer, checked before it is kept: the id positive, 1..{@code
   * maxBytes} bytes, a zstd-format dictionary's header naming the same id, and zstd able to load it
   * and round-trip a sample with it.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static Dictionary checked(int id, byte[] bytes, int maxBytes) {
    if (id <= 0) {
      throw new IllegalArgumentException(
          "dictionary id must be positive, was " + Integer.toUnsignedString(id));
    }
    int limit = Math.min(maxBytes, MAX_DICTIONARY_BYTES);
    if (bytes.length == 0 || bytes.length > limit) {
      throw new IllegalArgumentException(
          "dictionary " + id + " has " + bytes.length + " bytes; allowed 1.." + limit);
    }
    if (bytes.length >= 8 && intAt(bytes, 0) == ZSTD_DICT_MAGIC && intAt(bytes, 4) != id) {
      throw new IllegalArgumentException(
          "dictionary "
              + id
              + " carries the zstd header of dictionary "
              + Integer.toUnsignedString(intAt(bytes, 4)));
    }
    Dictionary d = new Dictionary(id, bytes.clone());
    byte[] sample =
        "{\"edgesync\":\"dictionary check\",\"n\":12345}"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try {
      byte[] packed = com.github.luben.zstd.Zstd.compress(sample, d.forCompression(3));
      byte[] back =
          com.github.luben.zstd.Zstd.decompress(packed, d.forDecompression(), sample.length);
      if (!Arrays.equals(back, sample)) {
        throw new IllegalArgumentException("dictionary " + id + " does not round-trip a sample");
      }
    } catch (ZstdException | IllegalStateException e) {
      throw new IllegalArgumentException(
          "dictionary " + id + " cannot be loaded by zstd: " + e.getMessage(), e);
    }
    return d;
  }

  /**
   * Trains a zstd dictionary of at most {@code maxBytes} from sample records. Train on records of
   * the collection it will compress (the more, the better: about 100 times {@code maxBytes} of
   * samples is a good amount). The id is written into the dictionary's header as well.
   *
   * @throws IllegalArgumentException if zstd cannot train from these samples (too few, too small)
   */
  public static Dictionary train(int id, List<byte[]> samples, int maxBytes) {
    if (maxBytes < 256 || maxBytes > MAX_DICTIONARY_BYTES) {
      throw new IllegalArgumentException(
          "dictionary size must be 256.." + MAX_DICTIONARY_BYTES + " bytes, was " + maxBytes);
    }
    long total = 0;
    for (byte[] s : samples) {
      total += s.length;
    }
    if (samples.size() < 8 || total > Integer.MAX_VALUE - 1024) {
      throw new IllegalArgumentException(
          "cannot train a dictionary from " + samples.size() + " samples of " + total + " bytes");
    }
    ZstdDictTrainer trainer = new ZstdDictTrainer((int) total, maxBytes);
    for (byte[] s : samples) {
      trainer.addSample(s);
    }
    byte[] trained;
    try {
      trained = trainer.trainSamples();
    } catch (ZstdException e) {
      throw new IllegalArgumentException(
          "zstd could not train a dictionary from "
              + samples.size()
              + " samples: "
              + e.getMessage(),
          e);
    }
    if (trained.length >= 8 && intAt(trained, 0) == ZSTD_DICT_MAGIC) {
      trained[4] = (byte) id;
      trained[5] = (byte) (id >>> 8);
      trained[6] = (byte) (id >>> 16);
      trained[7] = (byte) (id >>> 24);
    }
    return new Dictionary(id, trained);
  }

  public int id() {
    return id;
  }

  /** A copy of the dictionary's bytes, for storing or shipping. */
  public byte[] bytes() {
    return bytes.clone();
  }

  public int size() {
    return bytes.length;
  }

  synchronized ZstdDictCompress forCompression(int level) {
    return compressors.computeIfAbsent(level, l -> new ZstdDictCompress(bytes, l));
  }

  synchronized ZstdDictDecompress forDecompression() {
    if (decompressor == null) {
      decompressor = new ZstdDictDecompress(bytes);
    }
    return decompressor;
  }

  private static int intAt(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | b[at + 3] << 24;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Dictionary d && d.id == id && Arrays.equals(d.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return id;
  }

  @Override
  public String toString() {
    return "Dictionary[id=" + id + ", " + bytes.length + " bytes]";
  }
}

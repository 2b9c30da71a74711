package io.edgesync.engine.files;

import com.github.luben.zstd.Zstd;
import com.google.protobuf.ByteString;
import io.edgesync.protocol.wire.ChunkPack;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.PackEncoding;
import java.util.List;

/** TEMPORARY stand-in until the delta codec lands. */
public final class PackCodec {
  private PackCodec() {}

  public static ChunkPack encode(
      List<ChunkRange> ranges, byte[] raw, List<ChunkRange> base, byte[] dictionary, int level) {
    byte[] z = Zstd.compress(raw, level);
    ChunkPack.Builder b = ChunkPack.newBuilder().addAllRanges(ranges);
    if (z.length < raw.length) {
      return b.setEncoding(PackEncoding.PACK_ZSTD).setPayload(ByteString.copyFrom(z)).build();
    }
    return b.setEncoding(PackEncoding.PACK_RAW).setPayload(ByteString.copyFrom(raw)).build();
  }

  public static byte[] decode(ChunkPack pack, int expectedRawBytes, byte[] dictionary)
      throws InvalidPackException {
    byte[] p = pack.getPayload().toByteArray();
    byte[] out;
    switch (pack.getEncoding()) {
      case PACK_RAW -> out = p;
      case PACK_ZSTD -> {
        try {
          out = Zstd.decompress(p, expectedRawBytes);
        } catch (RuntimeException e) {
          throw new InvalidPackException("zstd: " + e.getMessage());
        }
      }
      default -> throw new InvalidPackException("unknown encoding " + pack.getEncoding());
    }
    if (out.length != expectedRawBytes) {
      throw new InvalidPackException(
          "decoded " + out.length + " bytes, expected " + expectedRawBytes);
    }
    return out;
  }
}

package io.edgesync.agent.internal.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Refuses a packet above {@code max_packet_bytes} as soon as its fixed header is read, before its
 * body is buffered: Netty's {@code MqttDecoder} checks the size only once the whole body has
 * arrived, so a client announcing 256 MiB would make it buffer that much first. It follows packet
 * boundaries by reading each fixed header (type byte and the Remaining Length varint) and skipping
 * the body; bytes pass through unchanged. On a packet too large (or a Remaining Length longer than
 * four bytes) it forwards what came before that packet, fires {@link PacketTooLargeException} and
 * discards everything after.
 *
 * <p>Not thread safe: one instance per channel, used on its event loop.
 */
final class PacketSizeGuard extends ChannelInboundHandlerAdapter {
  /** The packet's total size (fixed header included) exceeded the limit. */
  static final class PacketTooLargeException extends RuntimeException {
    final long packetBytes;

    PacketTooLargeException(long packetBytes, int maxBytes) {
      super(
          packetBytes < 0
              ? "malformed Remaining Length (more than four bytes)"
              : "packet of " + packetBytes + " bytes exceeds max_packet_bytes " + maxBytes);
      this.packetBytes = packetBytes;
    }
  }

  private final int maxPacketBytes;
  private long bodyLeft; // bytes of the current packet's body still to skip
  private int headerBytes; // bytes of the current fixed header read so far (0 = at a boundary)
  private long remaining; // the Remaining Length decoded so far
  private boolean failed;

  PacketSizeGuard(int maxPacketBytes) {
    this.maxPacketBytes = maxPacketBytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (failed) {
      buf.release();
      return;
    }
    int start = buf.readerIndex();
    int end = buf.writerIndex();
    int at = start;
    int packetStart = start;
    while (at < end) {
      if (bodyLeft > 0) {
        int skip = (int) Math.min(bodyLeft, end - at);
        at += skip;
        bodyLeft -= skip;
        continue;
      }
      if (headerBytes == 0) {
        packetStart = at;
      }
      int b = buf.getByte(at++) & 0xFF;
      headerBytes++;
      if (headerBytes == 1) {
        remaining = 0;
        continue; // the type and flags byte
      }
      remaining |= (long) (b & 0x7F) << (7 * (headerBytes - 2));
      if ((b & 0x80) != 0) {
        if (headerBytes == 5) {
          fail(ctx, buf, start, packetStart, -1);
          return;
        }
        continue;
      }
      long total = headerBytes + remaining;
      if (total > maxPacketBytes) {
        fail(ctx, buf, start, packetStart, total);
        return;
      }
      bodyLeft = remaining;
      headerBytes = 0;
    }
    ctx.fireChannelRead(buf);
  }

  /** Forwards the bytes before the offending packet, then reports it; the rest is discarded. */
  private void fail(ChannelHandlerContext ctx, ByteBuf buf, int start, int packetStart, long size) {
    failed = true;
    if (packetStart > start) {
      ctx.fireChannelRead(buf.retainedSlice(start, packetStart - start));
    }
    buf.release();
    ctx.fireExceptionCaught(new PacketTooLargeException(size, maxPacketBytes));
  }
}

package io.edgesync.agent.internal.mqtt;

import io.edgesync.agent.MqttSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's local MQTT 3.1.1/5 listener (docs/operations.md, "MQTT on the device"): PUBLISHes on
 * the configured topic filters become records of their streams, and QoS 1 is acknowledged only once
 * the record is durable in the outbox; clients subscribe to documents and commands under the
 * prefix.
 *
 * <p>Footprint: ONE NIO event-loop thread ("edgesync-mqtt") accepts, reads, writes and runs every
 * connection's state, so no state needs a lock; no native transport. Buffers come from an unpooled
 * heap allocator: they are counted in the heap ({@code -Xmx}) and returned by the GC, where a
 * pooled allocator keeps arenas of chunks (MiBs each) alive for the process's life; the listener's
 * buffers are small and short-lived (one read, one packet), so pooling gains little here.
 *
 * <p>Thread safe: {@link #close} from any thread.
 */
public final class MqttListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MqttListener.class);

  private final EventLoopGroup group;
  private final Channel server;
  private final ChannelGroup channels;
  private final MqttMetrics metrics;

  private MqttListener(
      EventLoopGroup group, Channel server, ChannelGroup channels, MqttMetrics metrics) {
    this.group = group;
    this.server = server;
    this.channels = channels;
    this.metrics = metrics;
  }

  /**
   * Listens on the settings' host and port.
   *
   * @param subscriptions makes the subscriptions of the listener's connections, on its event loop
   * @throws IOException if it cannot listen (port taken, address not local) or a TLS/credential
   *     file cannot be read
   */
  public static MqttListener start(
      MqttSettings settings,
      MqttSink sink,
      Function<io.netty.channel.EventLoop, Subscriptions> subscriptions,
      MqttMetrics metrics)
      throws IOException {
    SslContext tls = settings.tls() == null ? null : MqttTls.context(settings.tls());
    MqttCredentials credentials = credentials(settings);
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("edgesync-mqtt", true), NioIoHandler.newFactory());
    io.netty.channel.EventLoop loop = group.next();
    ListenerContext shared =
        new ListenerContext(
            settings,
            credentials,
            metrics,
            new IngestBatcher(loop, sink, metrics),
            subscriptions.apply(loop));
    ChannelGroup channels = new DefaultChannelGroup("mqtt", loop);
    UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false);
    ServerBootstrap b =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 128)
            .option(ChannelOption.ALLOCATOR, alloc)
            .childOption(ChannelOption.ALLOCATOR, alloc)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    // Sockets that have not sent CONNECT yet count too: without this bound any
                    // number could wait out connect_timeout_ms (CONNECT checks max_connections).
                    if (channels.size() >= maxSockets(settings)) {
                      metrics.connectionRefused("max_connections");
                      ch.close();
                      return;
                    }
                    channels.add(ch);
                    ChannelPipeline p = ch.pipeline();
                    if (tls != null) {
                      p.addLast("tls", tls.newHandler(ch.alloc()));
                    }
                    // Refuses a packet above the limit from its fixed header, before buffering it.
                    p.addLast("decoder", new MqttDecoder(settings.maxPacketBytes()));
                    p.addLast("encoder", MqttEncoder.INSTANCE);
                    p.addLast("session", new MqttConnection(shared));
                  }
                });
    try {
      Channel server =
          b.bind(new InetSocketAddress(settings.host(), settings.port())).sync().channel();
      log.info(
          "MQTT listener on {}{} (max_packet_bytes {}, max_inflight_messages {}, credentials {})",
          server.localAddress(),
          tls == null ? "" : " with TLS",
          settings.maxPacketBytes(),
          settings.maxInflightMessages(),
          credentials == null ? "none" : "required");
      return new MqttListener(group, server, channels, metrics);
    } catch (Exception e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IOException(
          "cannot listen on " + settings.host() + ":" + settings.port() + ": " + e.getMessage(), e);
    }
  }

  private static MqttCredentials credentials(MqttSettings s) throws IOException {
    if (s.usersFile() != null) {
      return MqttCredentials.fromUsersFile(s.usersFile());
    }
    if (s.username() != null) {
      return MqttCredentials.single(s.username(), s.passwordFile());
    }
    return null;
  }

  /** The port it listens on (the chosen one when configured as 0). */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  public MqttMetrics metrics() {
    return metrics;
  }

  /** Stops accepting, closes every connection and stops the event loop (waits up to 2 s). */
  @Override
  public void close() {
    server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }

  /**
   * Open sockets allowed: twice {@code max_connections} plus a few, so that clients taking over
   * their own sessions and sockets still before CONNECT fit, and a flood of idle sockets does not.
   */
  static int maxSockets(MqttSettings settings) {
    return settings.maxConnections() * 2 + 8;
  }
}

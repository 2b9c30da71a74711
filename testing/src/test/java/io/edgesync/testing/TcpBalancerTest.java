package io.edgesync.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TcpBalancerTest {
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  /** A server that answers every connection with its name, then echoes one line. */
  private ServerSocket namedServer(String name) throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    closing.add(ss);
    Thread t =
        new Thread(
            () -> {
              while (!ss.isClosed()) {
                try (Socket s = ss.accept()) {
                  OutputStream out = s.getOutputStream();
                  out.write((name + "\n").getBytes());
                  InputStream in = s.getInputStream();
                  int b;
                  while ((b = in.read()) >= 0 && b != '\n') {
                    out.write(b);
                  }
                  out.write('\n');
                } catch (IOException e) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
    return ss;
  }

  private static String exchange(int port, String line) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream().write((line + "\n").getBytes());
      byte[] all = s.getInputStream().readAllBytes();
      return new String(all).trim().replace('\n', ' ');
    }
  }

  @Test
  void connectionsGoToTheBackendsInTurn_bytesPassBothWays_andADeadBackendIsSkipped()
      throws Exception {
    ServerSocket a = namedServer("a");
    ServerSocket b = namedServer("b");
    TcpBalancer lb =
        TcpBalancer.start(
            List.of(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), a.getLocalPort()),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), b.getLocalPort())));
    closing.add(0, lb);

    assertThat(exchange(lb.port(), "hello")).isEqualTo("a hello");
    assertThat(exchange(lb.port(), "again")).isEqualTo("b again");
    b.close(); // a node dies
    assertThat(exchange(lb.port(), "x")).isEqualTo("a x");
    assertThat(exchange(lb.port(), "y")).isEqualTo("a y");
    assertThat(lb.connections(0)).isEqualTo(3);
    assertThat(lb.connections(1)).isEqualTo(1);
  }
}

package io.edgesync.server.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ClusterBus} of nodes sharing one PostgreSQL database: PostgreSQL's own {@code
 * NOTIFY}/{@code LISTEN} on channel {@value #CHANNEL}, so no other program is needed between the
 * nodes. A notification reaches every listening node within milliseconds; one that arrives while a
 * node's listening connection is down is lost, so a node that made its connection again delivers
 * {@link ClusterEvent.Kind#RESYNC} to its listener.
 *
 * <p>Two connections of its own: one that publishes (an event is sent once the change committed,
 * from whichever thread committed it) and one that listens, on the bus's thread.
 */
public final class PostgresBus implements ClusterBus {
  private static final Logger log = LoggerFactory.getLogger(PostgresBus.class);

  /** The channel the nodes notify and listen on. */
  public static final String CHANNEL = "edgesync_cluster";

  /** PostgreSQL's limit on a notification's payload is 8,000 bytes; characters may take 4. */
  static final int MAX_EVENT_CHARS = 1_990;

  private static final int POLL_MS = 250;
  private static final long RECONNECT_DELAY_MS = 1_000;

  private final String node;
  private final DataSource source;
  private final Thread listenerThread;
  private volatile Consumer<ClusterEvent> listener = e -> {};
  private volatile boolean closed;
  private Connection publishing; // guarded by this

  public PostgresBus(String node, DataSource source) {
    if (node.indexOf(ClusterEvent.FIELD) >= 0 || node.indexOf(ClusterEvent.SUBJECT) >= 0) {
      throw new IllegalArgumentException("a node id may not contain tabs or line breaks");
    }
    this.node = node;
    this.source = source;
    this.listenerThread = new Thread(this::listenLoop, "edgesync-cluster-bus");
    listenerThread.setDaemon(true);
  }

  @Override
  public void listen(Consumer<ClusterEvent> listener) {
    this.listener = listener;
    if (!listenerThread.isAlive()) {
      listenerThread.start();
    }
  }

  /**
   * The notifications that carry {@code event} ({@code SELECT pg_notify(CHANNEL, payload)} each),
   * for a store that sends them inside the transaction that made the change: PostgreSQL delivers
   * them when, and only if, it commits.
   */
  public static List<String> payloads(ClusterEvent event) {
    return event.encode(MAX_EVENT_CHARS);
  }

  @Override
  public synchronized void publish(ClusterEvent event) {
    if (closed) {
      return;
    }
    for (String payload : event.encode(MAX_EVENT_CHARS)) {
      if (!notify(payload) && !notify(payload)) { // a second try on a new connection
        log.warn("could not tell the other nodes about {} {}", event.kind(), event.subjects());
        return;
      }
    }
  }

  private boolean notify(String payload) {
    try {
      if (publishing == null) {
        publishing = source.getConnection();
        publishing.setAutoCommit(true);
      }
      try (PreparedStatement ps = publishing.prepareStatement("SELECT pg_notify(?, ?)")) {
        ps.setString(1, CHANNEL);
        ps.setString(2, payload);
        ps.execute();
      }
      return true;
    } catch (SQLException e) {
      log.debug("publishing failed: {}", e.toString());
      closeQuietly(publishing);
      publishing = null;
      return false;
    }
  }

  private void listenLoop() {
    while (!closed) {
      try (Connection c = source.getConnection()) {
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + CHANNEL);
        }
        // Events may have been sent while nobody listened: after a lost connection, and also
        // before the first LISTEN, since the node accepts device sessions before this thread gets
        // here (a session whose Hello read the documents just before another node's commit would
        // otherwise miss that change until the next one).
        deliver(new ClusterEvent(node, ClusterEvent.Kind.RESYNC, java.util.List.of()));
        PGConnection pg = c.unwrap(PGConnection.class);
        while (!closed) {
          PGNotification[] notes = pg.getNotifications(POLL_MS);
          if (notes != null) {
            for (PGNotification n : notes) {
              ClusterEvent e = ClusterEvent.decode(n.getParameter());
              if (e != null && !e.node().equals(node)) {
                deliver(e);
              }
            }
          }
        }
      } catch (SQLException e) {
        if (!closed) {
          log.warn("listening for other nodes' events failed, again in a second: {}", e.toString());
          sleep(RECONNECT_DELAY_MS);
        }
      }
    }
  }

  private void deliver(ClusterEvent e) {
    try {
      listener.accept(e);
    } catch (RuntimeException ex) {
      log.error("handling {} from node {} failed", e.kind(), e.node(), ex);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing a broken connection: nothing to report
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      closeQuietly(publishing);
      publishing = null;
    }
    try {
      listenerThread.join(POLL_MS * 4L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

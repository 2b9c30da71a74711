package io.edgesync.server;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.SessionHandler;
import org.eclipse.jetty.session.DefaultSessionCache;
import org.eclipse.jetty.session.NullSessionDataStore;
import org.eclipse.jetty.session.SessionCache;

/**
 * Keeps the HTTP sessions that Javalin opens for WebSocket upgrades from piling up. Javalin (7.2)
 * calls {@code request.getSession()} for every upgrade, to copy the session's attributes into the
 * WebSocket context, which creates a servlet session each time; Jetty's default cache never evicts
 * and its sessions never expire, so every device connection (each reconnect, each one refused with
 * RETRY_LATER) left about 0.6 KiB on the heap for the life of the server (bench {@code fleet}'s
 * histogram: 2,591 sessions held with 1,000 devices connected). The server uses no HTTP session
 * (devices are named by their certificate, REST callers by their API key), so each is evicted from
 * the cache as soon as its request ends.
 *
 * <p>Thread safe: {@link #install} runs once while Javalin is configured; {@link #held} reads
 * Jetty's thread-safe counter.
 */
final class UpgradeSessions {
  private volatile DefaultSessionCache cache;

  /** Gives the context's session handler a cache that evicts a session when its request ends. */
  void install(ServletContextHandler context) {
    SessionHandler handler = context.getSessionHandler();
    DefaultSessionCache c = new DefaultSessionCache(handler);
    c.setEvictionPolicy(SessionCache.EVICT_ON_SESSION_EXIT);
    c.setSessionDataStore(new NullSessionDataStore()); // what Jetty's default cache would use
    handler.setSessionCache(c);
    cache = c;
  }

  /** HTTP sessions the server holds now; -1 before {@link #install}. */
  long held() {
    DefaultSessionCache c = cache;
    return c == null ? -1 : c.getSessionsCurrent();
  }
}

package io.edgesync.server;

import java.util.concurrent.ThreadFactory;

/**
 * Thread factories for the server's background executors: named daemon threads, so that a thread
 * dump tells what each one does and none of them keeps the JVM alive.
 */
final class DaemonThreads {
  private DaemonThreads() {}

  static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** For work that must yield to sessions (dictionary training). */
  static ThreadFactory lowPriority(String name) {
    ThreadFactory daemon = named(name);
    return r -> {
      Thread t = daemon.newThread(r);
      t.setPriority(Thread.MIN_PRIORITY);
      return t;
    };
  }
}

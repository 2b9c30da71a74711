package io.edgesync.server;

import io.edgesync.support.ConfigNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the cloud keeps its state ({@code server.store}): the embedded SQLite file in {@code
 * data_dir} (the default), or a PostgreSQL database that several server nodes may share.
 *
 * <pre>
 * server:
 *   store:
 *     type: postgres                 # sqlite (default) | postgres
 *     url: jdbc:postgresql://db.example:5432/edgesync
 *     user: edgesync
 *     password_file: /etc/edgesync/pg-password   # first line is the password
 *     pool:
 *       max_connections: 10          # 1..1000
 *       connect_timeout_ms: 10000    # 250..600000
 * </pre>
 *
 * <p>{@code data_dir} keeps its meaning with PostgreSQL too: files, the CA, the audit signing key.
 */
public record StoreSettings(
    Type type,
    String url,
    String user,
    Path passwordFile,
    int maxConnections,
    long connectTimeoutMs) {

  /** The store's database. */
  public enum Type {
    SQLITE,
    POSTGRES
  }

  public static final int DEFAULT_MAX_CONNECTIONS = 10;
  public static final int MAX_MAX_CONNECTIONS = 1000;
  public static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

  private static final String URL_PREFIX = "jdbc:postgresql://";

  public StoreSettings {
    Objects.requireNonNull(type, "type");
    if (type == Type.POSTGRES) {
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(user, "user");
      if (maxConnections < 1 || maxConnections > MAX_MAX_CONNECTIONS) {
        throw new IllegalArgumentException(
            "max_connections must be 1.." + MAX_MAX_CONNECTIONS + ", was " + maxConnections);
      }
    }
  }

  /** The embedded SQLite file in the data directory. */
  public static StoreSettings sqlite() {
    return new StoreSettings(Type.SQLITE, null, null, null, 0, 0);
  }

  /** A PostgreSQL database; {@code passwordFile} null: no password (e.g. trust on localhost). */
  public static StoreSettings postgres(String url, String user, Path passwordFile) {
    return new StoreSettings(
        Type.POSTGRES,
        url,
        user,
        passwordFile,
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_CONNECT_TIMEOUT_MS);
  }

  /** What the store is, for messages: the file's directory or the URL (never a password). */
  public String describe(Path dataDir) {
    return type == Type.SQLITE
        ? "SQLite " + dataDir.resolve(SyncServer.STORE_FILE)
        : "PostgreSQL " + url + " as " + user;
  }

  /** {@code server.store}; absent: SQLite. */
  static StoreSettings from(ConfigNode node) {
    if (!node.isPresent()) {
      return sqlite();
    }
    ConfigNode s = node.allowOnly("type", "url", "user", "password_file", "pool");
    if (s.choice("type", "sqlite", "sqlite", "postgres").equals("sqlite")) {
      s.allowOnly("type"); // url, user, ... only mean something with type: postgres
      return sqlite();
    }
    String url = s.string("url", null);
    if (url == null || !url.startsWith(URL_PREFIX)) {
      throw s.error(
          "url",
          (url == null ? "required" : "'" + url + "' is not")
              + " a PostgreSQL JDBC URL such as jdbc:postgresql://host:5432/edgesync");
    }
    String user = s.string("user", null);
    if (user == null || user.isBlank()) {
      throw s.error("user", "required with type: postgres (the role the server logs in as)");
    }
    Path password = passwordFile(s);
    ConfigNode pool = s.section("pool").allowOnly("max_connections", "connect_timeout_ms");
    return new StoreSettings(
        Type.POSTGRES,
        url,
        user,
        password,
        (int)
            pool.integer(
                "max_connections", DEFAULT_MAX_CONNECTIONS, 1, MAX_MAX_CONNECTIONS, "connections"),
        pool.integer("connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT_MS, 250, 600_000, "ms"));
  }

  private static Path passwordFile(ConfigNode s) {
    String value = s.string("password_file", null);
    if (value == null) {
      return null;
    }
    Path p = Path.of(value);
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      throw s.error("password_file", "cannot read '" + value + "' (no such file, or no access)");
    }
    return p;
  }
}

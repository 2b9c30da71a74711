package io.edgesync.server.files;

import io.edgesync.support.files.ChunkStorage;
import io.edgesync.support.files.ChunkStore;
import io.edgesync.support.files.ChunkStore.ChunkMismatchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * File chunks in the PostgreSQL store, table {@code file_chunks} ({@code
 * db/postgres/V4__file_chunks.sql}): one row per chunk, keyed by its raw 32-byte SHA-256, the bytes
 * in a BYTEA. With them in the database every server node serves every chunk, without a volume the
 * nodes share, and a {@code pg_dump} holds them with the rows that name them.
 *
 * <p>The guarantees of the disk {@link ChunkStore}: {@link #put} refuses bytes that do not hash to
 * their name before they reach the database; {@link #get} checks them again, so a row damaged
 * behind the server's back is reported, not served. A chunk is inserted with {@code ON CONFLICT DO
 * NOTHING}: stored once, and two nodes storing the same chunk at once both succeed (the second
 * waits for the first's commit, then inserts nothing).
 *
 * <p>Each call takes a connection of its own from the store's pool and commits before returning: it
 * never uses the store's connection, so reading a large chunk does not hold the store's lock, and a
 * stored chunk is visible to every node when {@link #put} returns.
 *
 * <p>Thread safe (each call has its own connection).
 */
public final class PostgresChunkStore implements ChunkStorage {
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
  private static final HexFormat HEX = HexFormat.of();

  private final DataSource pool;
  private final String where; // for messages: "table file_chunks of <url>"

  /** Chunks in {@code pool}'s database, whose URL {@code url} messages name. */
  public PostgresChunkStore(DataSource pool, String url) {
    this.pool = pool;
    this.where = "table file_chunks of " + url;
  }

  @Override
  public boolean has(String sha256) {
    byte[] key = key(sha256);
    try {
      return run(
          "looking up chunk " + sha256,
          c -> {
            try (PreparedStatement st =
                c.prepareStatement("SELECT 1 FROM file_chunks WHERE sha256=?")) {
              st.setBytes(1, key);
              try (ResultSet rs = st.executeQuery()) {
                return rs.next();
              }
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Set<String> held(Collection<String> names) {
    byte[][] keys = names.stream().map(PostgresChunkStore::key).toArray(byte[][]::new);
    if (keys.length == 0) {
      return Set.of();
    }
    try {
      return run(
          "looking up " + keys.length + " chunks",
          c -> {
            try (PreparedStatement st =
                c.prepareStatement("SELECT sha256 FROM file_chunks WHERE sha256 = ANY(?)")) {
              st.setArray(1, c.createArrayOf("bytea", keys));
              Set<String> out = new HashSet<>();
              try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                  out.add(HEX.formatHex(rs.getBytes(1)));
                }
              }
              return out;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public boolean put(String sha256, byte[] data) throws IOException {
    byte[] key = key(sha256);
    String actual = ChunkStore.sha256(data);
    if (!actual.equals(sha256)) {
      throw new ChunkMismatchException(
          "chunk " + sha256 + " refused: its " + data.length + " bytes hash to " + actual);
    }
    return run(
        "storing chunk " + sha256,
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO file_chunks(sha256, data) VALUES (?,?)"
                      + " ON CONFLICT (sha256) DO NOTHING")) {
            st.setBytes(1, key);
            st.setBytes(2, data);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public Optional<byte[]> get(String sha256) throws IOException {
    byte[] key = key(sha256);
    Optional<byte[]> data =
        run(
            "reading chunk " + sha256,
            c -> {
              try (PreparedStatement st =
                  c.prepareStatement("SELECT data FROM file_chunks WHERE sha256=?")) {
                st.setBytes(1, key);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.<byte[]>empty();
                }
              }
            });
    if (data.isPresent()) {
      String actual = ChunkStore.sha256(data.get());
      if (!actual.equals(sha256)) {
        throw new ChunkMismatchException(
            "chunk " + sha256 + " in " + where + " is damaged: its bytes hash to " + actual);
      }
    }
    return data;
  }

  @Override
  public byte[] require(byte[] sha256) throws IOException {
    String hex = HEX.formatHex(sha256);
    return get(hex)
        .orElseThrow(() -> new NoSuchFileException("chunk " + hex + " is not held in " + where));
  }

  @Override
  public boolean delete(String sha256) throws IOException {
    byte[] key = key(sha256);
    return run(
        "deleting chunk " + sha256,
        c -> {
          try (PreparedStatement st =
              c.prepareStatement("DELETE FROM file_chunks WHERE sha256=?")) {
            st.setBytes(1, key);
            return st.executeUpdate() == 1;
          }
        });
  }

  private interface Work<T> {
    T on(Connection c) throws SQLException;
  }

  /**
   * {@code work} on a connection of the pool, committed (a read too: its transaction ends, so the
   * pooled connection is never left idle in a transaction).
   */
  private <T> T run(String operation, Work<T> work) throws IOException {
    try (Connection c = pool.getConnection()) {
      try {
        T result = work.on(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new IOException(operation + " failed in " + where + ": " + e.getMessage(), e);
    }
  }

  private static byte[] key(String sha256) {
    if (sha256 == null || !SHA256_HEX.matcher(sha256).matches()) {
      throw new IllegalArgumentException(
          "a chunk's name is 64 lower-case hex digits (its SHA-256), was "
              + (sha256 == null ? "nothing" : "'" + sha256 + "'"));
    }
    return HEX.parseHex(sha256);
  }
}

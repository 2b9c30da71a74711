package io.edgesync.server;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.support.jdbc.Jdbc;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The REST API's keys (table {@code api_keys}, schema {@code db/V6__api_keys.sql}), in the cloud
 * store's file: a name (unique, never reused: a revoked key keeps its row), a {@link Role}, when it
 * was made and revoked, and the SHA-256 of the key. The key itself is never stored; {@link #create}
 * returns it once.
 *
 * <p>A key is {@value #PREFIX} followed by 32 random bytes in unpadded base64url (43 characters),
 * so that a leaked one is recognisable in logs and by secret scanners.
 *
 * <p>Every key made or revoked is recorded in the audit chain ({@code key.created}, {@code
 * key.revoked}) with who did it: an API key's name, {@code cli:<user>} for the offline CLI, {@code
 * $server} for the first start's admin key.
 *
 * <p>Thread safe: every call runs under the store's monitor. Nothing is cached, so a key revoked by
 * another process on the same file (the CLI's {@code keys revoke}) is refused at its next use.
 */
public final class ApiKeys {
  /** The start of every key. */
  public static final String PREFIX = "esk_";

  private static final int KEY_BYTES = 32;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
  private static final String COLUMNS = "name, role, created_at_ms, revoked_at_ms, device_groups";

  /** What a key may do; each role may do everything the ones before it may. */
  public enum Role {
    /** Every read (GET). */
    VIEWER,
    /** Documents, commands, conflict resolution. */
    OPERATOR,
    /** Devices and API keys. */
    ADMIN;

    /** Whether a key of this role may do what needs {@code needed}. */
    public boolean allows(Role needed) {
      return compareTo(needed) >= 0;
    }

    /** The role's name as the API, the CLI and the store spell it. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The role named {@code label}; an unknown one is an error naming the roles there are. */
    public static Role parse(String label) {
      for (Role r : values()) {
        if (r.label().equals(label)) {
          return r;
        }
      }
      throw new IllegalArgumentException(
          "unknown role '" + label + "'; the roles are viewer, operator and admin");
    }
  }

  /**
   * A key as listed: never the key nor its hash. {@code revokedAtMs} is null while it is valid;
   * {@code groups} is empty for a key of the whole fleet, else the device groups it is limited to.
   */
  public record Key(
      String name, Role role, long createdAtMs, Long revokedAtMs, List<String> groups) {
    public Key {
      groups = List.copyOf(groups);
    }

    public boolean revoked() {
      return revokedAtMs != null;
    }

    /** Whether the key may act only on the devices and scopes of {@link #groups}. */
    public boolean limited() {
      return !groups.isEmpty();
    }
  }

  /** A key just made: its listing and the key itself, which is shown this once. */
  public record Created(Key key, String secret) {}

  /** A key name that is taken already (by a valid or a revoked key). */
  public static final class NameTaken extends IllegalArgumentException {
    NameTaken(String name) {
      super("an API key named '" + name + "' exists already (names of revoked keys stay taken)");
    }
  }

  /** No key has the name. */
  public static final class NoSuchKey extends IllegalArgumentException {
    NoSuchKey(String name) {
      super("no API key named '" + name + "'");
    }
  }

  private final StoreSql sql;
  private final Object lock;
  private final AuditLog auditLog;
  private final SecureRandom random = new SecureRandom();

  ApiKeys(Jdbc jdbc, Object lock, AuditLog auditLog) {
    this.sql = new StoreSql(jdbc, "API key store");
    this.lock = lock;
    this.auditLog = auditLog;
  }

  /**
   * Makes a key named {@code name} with {@code role}, limited to the devices in {@code groups} and
   * those groups' scopes (empty: the whole fleet), on behalf of {@code actor} (the audit's who).
   * The name is 1..64 letters, digits and {@code . _ @ -}, starting with a letter or digit; a taken
   * name is refused ({@link NameTaken}). Group names follow the collection name rules.
   */
  public Created create(String name, Role role, List<String> groups, long nowMs, String actor) {
    return add(name, role, groups, newSecret(), nowMs, actor);
  }

  /** As {@link #create}, with the key given (made by {@link #newSecret}). */
  Created add(
      String name, Role role, List<String> groups, String secret, long nowMs, String actor) {
    checkName(name);
    for (String g : groups) {
      if (g == null || !ProtocolLimits.isValidCollection(g)) {
        throw new IllegalArgumentException(
            "invalid group name "
                + (g == null ? "null" : "'" + g + "'")
                + "; allowed: "
                + ProtocolLimits.COLLECTION_PATTERN);
      }
    }
    // The key and its audit record commit together, in a document transaction (under the monitor).
    // Its first statement writes: a transaction that read first could not wait for the write lock
    // while another process (the offline CLI) holds it, and would fail at once with SQLITE_BUSY.
    auditLog.inTransaction(
        () -> {
          int inserted =
              sql.call(
                  () ->
                      sql.jdbc()
                          .update(
                              "INSERT INTO api_keys(name, role, device_groups, sha256,"
                                  + " created_at_ms) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                              name,
                              role.label(),
                              groups.isEmpty() ? null : String.join(",", groups),
                              sha256(secret),
                              nowMs));
          if (inserted == 0) {
            throw new NameTaken(name); // the name is the key; 256 random bits do not collide
          }
          auditLog.appendInTransaction(
              actor, "key.created", name, Map.of("role", role.label(), "groups", groups));
          return null;
        });
    return new Created(new Key(name, role, nowMs, null, groups), secret);
  }

  /** Every key, valid and revoked, by name. */
  public List<Key> list() {
    synchronized (lock) {
      return fresh("SELECT " + COLUMNS + " FROM api_keys ORDER BY name");
    }
  }

  /** The key named {@code name}, valid or revoked. */
  public Optional<Key> find(String name) {
    synchronized (lock) {
      return sql
          .readCommitted(
              "SELECT " + COLUMNS + " FROM api_keys WHERE name=?", ApiKeys::readKey, name)
          .stream()
          .findFirst();
    }
  }

  /** As {@link #find}, inside the caller's transaction (which it does not end). */
  private Optional<Key> findInTransaction(String name) {
    return sql
        .rows("SELECT " + COLUMNS + " FROM api_keys WHERE name=?", ApiKeys::readKey, name)
        .stream()
        .findFirst();
  }

  /** The key whose secret is {@code secret} (valid or revoked), or empty for an unknown one. */
  public Optional<Key> bySecret(String secret) {
    byte[] hash = sha256(secret);
    synchronized (lock) {
      return fresh("SELECT " + COLUMNS + " FROM api_keys WHERE sha256=?", hash).stream()
          .findFirst();
    }
  }

  /**
   * Revokes the key named {@code name} from now on, on behalf of {@code actor} ({@link NoSuchKey}
   * if there is none); a key revoked already keeps its first revocation time (and is not audited
   * again). Returns the key as it now is.
   */
  public Key revoke(String name, long nowMs, String actor) {
    // Writes first, for the reason given in add.
    return auditLog.inTransaction(
        () -> {
          int revoked =
              sql.call(
                  () ->
                      sql.jdbc()
                          .update(
                              "UPDATE api_keys SET revoked_at_ms=? WHERE name=? AND revoked_at_ms"
                                  + " IS NULL",
                              nowMs,
                              name));
          Key k = findInTransaction(name).orElseThrow(() -> new NoSuchKey(name));
          if (revoked == 1) {
            auditLog.appendInTransaction(
                actor, "key.revoked", name, Map.of("role", k.role().label()));
          }
          return k;
        });
  }

  /** Whether any key exists, valid or revoked (the first start makes one when none does). */
  public boolean isEmpty() {
    synchronized (lock) {
      return sql.readCommitted("SELECT 1 FROM api_keys LIMIT 1", rs -> 1).isEmpty();
    }
  }

  /** A new key: {@value #PREFIX} and 32 random bytes, base64url without padding. */
  String newSecret() {
    byte[] bytes = new byte[KEY_BYTES];
    random.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static byte[] sha256(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * The keys a query finds, as the file holds them now. Another read of the connection may have
   * left its snapshot open: it is ended first, so that a key made or revoked by another process
   * (the CLI) counts at the very next request. Every write commits under the monitor, so only a
   * read-only transaction can be open here. Called under the monitor.
   */
  private List<Key> fresh(String query, Object... args) {
    sql.call(
        () -> {
          sql.jdbc().connection().commit();
          return null;
        });
    return sql.readCommitted(query, ApiKeys::readKey, args);
  }

  private static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "API key name must be 1..64 letters, digits and . _ @ -, starting with a letter or"
              + " digit, was "
              + (name == null ? "nothing" : "'" + name + "'"));
    }
  }

  private static Key readKey(ResultSet rs) throws SQLException {
    long revokedAtMs = rs.getLong(4);
    Long revoked = rs.wasNull() ? null : revokedAtMs; // wasNull speaks of the last column read
    String groups = rs.getString(5);
    return new Key(
        rs.getString(1),
        Role.parse(rs.getString(2)),
        rs.getLong(3),
        revoked,
        groups == null ? List.of() : List.of(groups.split(",")));
  }
}

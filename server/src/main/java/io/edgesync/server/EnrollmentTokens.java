package io.edgesync.server;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.support.jdbc.Jdbc;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One-time enrollment tokens (table {@code enrollment_tokens}, schema {@code
 * db/V8__enrollment_tokens.sql}), in the cloud store's file: the device id a token enrolls, who
 * made it, when it expires, and when it was used (with the serial of the certificate it bought).
 * Only the SHA-256 of a token is stored; {@link #create} returns the token once.
 *
 * <p>A token is {@value #PREFIX} followed by 32 random bytes in unpadded base64url, so a leaked one
 * is recognisable. Its <em>id</em> ({@link #tokenId}: the first 6 bytes of its SHA-256 in hex)
 * names it in the audit and in listings without revealing it.
 *
 * <p>Thread safe: reads run under the store's monitor; the writes ({@link #create}, {@link
 * #consume}) run in document transactions on the store's writer thread, each together with its
 * audit record, so the audit chain holds a record exactly when the change happened.
 */
public final class EnrollmentTokens {
  /** The start of every token. */
  public static final String PREFIX = "eet_";

  /** The longest a token may stay valid: 30 days. */
  public static final long MAX_TTL_S = 30L * 24 * 3600;

  private static final int TOKEN_BYTES = 32;
  private static final String COLUMNS =
      "sha256, device, created_by, created_at_ms, expires_at_ms, used_at_ms, cert_serial";

  /**
   * A token as stored: never the token itself. {@code usedAtMs} and {@code certSerial} are null
   * while it is unused.
   */
  public record Token(
      String tokenId,
      String device,
      String createdBy,
      long createdAtMs,
      long expiresAtMs,
      Long usedAtMs,
      String certSerial) {
    public boolean used() {
      return usedAtMs != null;
    }

    public boolean expiredAt(long nowMs) {
      return nowMs >= expiresAtMs;
    }
  }

  /** A token just made: its row and the token, which is shown this once. */
  public record Created(Token token, String secret) {}

  private final StoreSql sql;
  private final Object lock;
  private final AuditLog audit;
  private final SecureRandom random = new SecureRandom();

  EnrollmentTokens(Jdbc jdbc, Object lock, AuditLog audit) {
    this.sql = new StoreSql(jdbc, "enrollment token store");
    this.lock = lock;
    this.audit = audit;
  }

  /**
   * Makes a token that enrolls {@code device} once until {@code nowMs + ttlS} seconds, and appends
   * {@code enrollment_token.create} to the audit log with {@code actor} (an API key's name, or the
   * CLI's {@code cli:<user>}) in the same transaction.
   *
   * @throws IllegalArgumentException naming the bad device id or lifetime; nothing is stored
   */
  public Created create(String device, long ttlS, String actor, long nowMs) {
    if (device == null || !ProtocolLimits.isValidDeviceId(device)) {
      throw new IllegalArgumentException(
          "device id "
              + (device == null ? "missing" : "'" + device + "'")
              + " is not valid; allowed: "
              + ProtocolLimits.DEVICE_ID_PATTERN);
    }
    if (ttlS < 1 || ttlS > MAX_TTL_S) {
      throw new IllegalArgumentException(
          "an enrollment token's ttl_s must be 1.." + MAX_TTL_S + " (30 days), was " + ttlS);
    }
    String secret = newSecret();
    byte[] hash = ApiKeys.sha256(secret);
    long expiresAtMs = nowMs + ttlS * 1000;
    Token t = new Token(tokenId(hash), device, actor, nowMs, expiresAtMs, null, null);
    audit.inTransaction(
        () -> {
          sql.update(
              "INSERT INTO enrollment_tokens(sha256, device, created_by, created_at_ms,"
                  + " expires_at_ms) VALUES (?,?,?,?,?)",
              hash,
              device,
              actor,
              nowMs,
              expiresAtMs);
          audit.appendInTransaction(
              actor,
              "enrollment_token.create",
              device,
              Map.of("tokenId", t.tokenId(), "expiresAtMs", expiresAtMs));
          return null;
        });
    return new Created(t, secret);
  }

  /** The token whose secret is {@code secret}, used or not, or empty for an unknown one. */
  public Optional<Token> bySecret(String secret) {
    synchronized (lock) {
      return sql
          .readCommitted(
              "SELECT " + COLUMNS + " FROM enrollment_tokens WHERE sha256=?",
              EnrollmentTokens::read,
              ApiKeys.sha256(secret))
          .stream()
          .findFirst();
    }
  }

  /** Every token, newest first. */
  public List<Token> list() {
    synchronized (lock) {
      return sql.readCommitted(
          "SELECT " + COLUMNS + " FROM enrollment_tokens ORDER BY created_at_ms DESC",
          EnrollmentTokens::read);
    }
  }

  /**
   * Inside a transaction of {@link AuditLog#inTransaction}: the token as the transaction sees it
   * (the authoritative read before {@link #consume}).
   */
  Optional<Token> findInTransaction(String secret) {
    return sql
        .rows(
            "SELECT " + COLUMNS + " FROM enrollment_tokens WHERE sha256=?",
            EnrollmentTokens::read,
            ApiKeys.sha256(secret))
        .stream()
        .findFirst();
  }

  /**
   * Inside a transaction of {@link AuditLog#inTransaction}: marks the token used by the certificate
   * {@code serialHex}; false if it was used meanwhile (then nothing changed).
   */
  boolean consume(String secret, long nowMs, String serialHex) {
    return sql.call(
            () ->
                sql.jdbc()
                    .update(
                        "UPDATE enrollment_tokens SET used_at_ms=?, cert_serial=?"
                            + " WHERE sha256=? AND used_at_ms IS NULL",
                        nowMs,
                        serialHex,
                        ApiKeys.sha256(secret)))
        == 1;
  }

  /** The id that names a token in the audit and in listings: 6 bytes of its hash, in hex. */
  static String tokenId(byte[] sha256) {
    return HexFormat.of().formatHex(sha256, 0, 6);
  }

  /** The id of the token {@code secret}. */
  static String tokenIdOf(String secret) {
    return tokenId(ApiKeys.sha256(secret));
  }

  private String newSecret() {
    byte[] bytes = new byte[TOKEN_BYTES];
    random.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static Token read(ResultSet rs) throws SQLException {
    long usedAtMs = rs.getLong(6);
    Long used = rs.wasNull() ? null : usedAtMs;
    return new Token(
        tokenId(rs.getBytes(1)),
        rs.getString(2),
        rs.getString(3),
        rs.getLong(4),
        rs.getLong(5),
        used,
        rs.getString(7));
  }
}

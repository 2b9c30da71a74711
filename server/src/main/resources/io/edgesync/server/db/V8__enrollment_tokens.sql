-- Cloud store, schema version 8: one-time enrollment tokens (docs/security.md, "Enrollment").
-- Only the SHA-256 of a token is kept; the token itself is shown once, when it is made. A token
-- enrolls one device once: used_at_ms is set in the same transaction that records the issued
-- certificate's serial, so a token is either unused or has exactly one certificate.
CREATE TABLE enrollment_tokens (
  sha256          BLOB    PRIMARY KEY,
  device          TEXT    NOT NULL,     -- the only device id the token enrolls
  created_by      TEXT    NOT NULL,     -- the API key's name, or the CLI's "cli:<user>"
  created_at_ms   INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL,
  used_at_ms      INTEGER,              -- NULL while unused
  cert_serial     TEXT                  -- hex serial of the certificate it bought; NULL while unused
);
CREATE INDEX enrollment_tokens_device ON enrollment_tokens(device);

-- Cloud store, schema version 6: the tamper-evident audit log (AuditChain describes the hash).
-- One row per record in commit order; seq has no gaps; prev is the hash of record seq-1 (32 zero
-- bytes for seq 1); hash = SHA-256 of the record's canonical encoding, prev included.
CREATE TABLE audit_log (
  seq     INTEGER PRIMARY KEY,
  at_ms   INTEGER NOT NULL,
  actor   TEXT    NOT NULL,
  action  TEXT    NOT NULL,
  target  TEXT    NOT NULL,
  details TEXT    NOT NULL,  -- canonical JSON object (CanonicalJson)
  prev    BLOB    NOT NULL,
  hash    BLOB    NOT NULL
);

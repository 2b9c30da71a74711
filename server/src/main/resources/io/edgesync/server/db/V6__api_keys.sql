-- Cloud store, schema version 6: API keys of the REST API (docs/security.md, "API keys and
-- roles"). Only the SHA-256 of a key is kept; the key itself is shown once, when it is made.
-- A revoked key keeps its row (revoked_at_ms set), so that its name is never reused and the
-- audit's "who" keeps meaning one key.
CREATE TABLE api_keys (
  name            TEXT    PRIMARY KEY,
  role            TEXT    NOT NULL,     -- viewer | operator | admin
  device_groups   TEXT,                 -- comma-separated group names the key is limited to; NULL: all
  sha256          BLOB    NOT NULL UNIQUE,
  created_at_ms   INTEGER NOT NULL,
  revoked_at_ms   INTEGER               -- NULL while the key is valid
);

-- Cloud store (embedded SQLite), schema version 1.
CREATE TABLE devices (
  id                TEXT PRIMARY KEY,
  registered_at_ms  INTEGER NOT NULL,
  last_seen_ms      INTEGER NOT NULL,
  store_id          TEXT                -- the edge outbox its sequences come from (Hello.store_id)
) WITHOUT ROWID;

CREATE TABLE streams (
  device          TEXT    NOT NULL,
  stream          TEXT    NOT NULL,
  last_seq        INTEGER NOT NULL,  -- checkpoint: last committed sequence (record or gap)
  records         INTEGER NOT NULL,
  payload_bytes   INTEGER NOT NULL,
  gaps            INTEGER NOT NULL,
  dropped_records INTEGER NOT NULL,
  PRIMARY KEY (device, stream)
) WITHOUT ROWID;

-- Records as committed: one row per accepted batch, RecordLayout-encoded (a rowid table: large blobs).
CREATE TABLE batches (
  device          TEXT    NOT NULL,
  stream          TEXT    NOT NULL,
  first_seq       INTEGER NOT NULL,
  last_seq        INTEGER NOT NULL,
  committed_at_ms INTEGER NOT NULL,
  data            BLOB    NOT NULL,
  PRIMARY KEY (device, stream, first_seq)
);

CREATE TABLE gaps (
  device          TEXT    NOT NULL,
  stream          TEXT    NOT NULL,
  first_seq       INTEGER NOT NULL,
  last_seq        INTEGER NOT NULL,
  reason          INTEGER NOT NULL,
  dropped_at_ms   INTEGER NOT NULL,
  committed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (device, stream, first_seq)
) WITHOUT ROWID;

-- Edge outbox, schema version 1.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,                -- 'store_id': random id of this outbox, sent in Hello
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE streams (
  name            TEXT PRIMARY KEY,
  last_seq        INTEGER NOT NULL,   -- last sequence assigned (0 = none)
  acked_seq       INTEGER NOT NULL,   -- cloud committed everything up to here
  synced_records  INTEGER NOT NULL,   -- records acknowledged by the cloud, all time
  dropped_records INTEGER NOT NULL    -- records removed by overflow or age, all time
) WITHOUT ROWID;

-- Records appended in one group commit for one stream; sequences first_seq..last_seq.
-- A rowid table on purpose: rows hold blobs of up to megabytes, which WITHOUT ROWID handles poorly.
CREATE TABLE chunks (
  stream     TEXT    NOT NULL,
  first_seq  INTEGER NOT NULL,
  last_seq   INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,        -- sum of payload sizes
  oldest_ms  INTEGER NOT NULL,        -- origin time of the first record
  newest_ms  INTEGER NOT NULL,        -- origin time of the last record
  data       BLOB    NOT NULL,        -- RecordLayout encoding
  PRIMARY KEY (stream, first_seq)
);
CREATE INDEX chunks_by_age ON chunks (newest_ms);

-- Ranges dropped on the edge; reported to the cloud in sequence order like records.
CREATE TABLE gaps (
  stream         TEXT    NOT NULL,
  first_seq      INTEGER NOT NULL,
  last_seq       INTEGER NOT NULL,
  reason         INTEGER NOT NULL,    -- wire GapReason number
  dropped_at_ms  INTEGER NOT NULL,
  PRIMARY KEY (stream, first_seq)
) WITHOUT ROWID;

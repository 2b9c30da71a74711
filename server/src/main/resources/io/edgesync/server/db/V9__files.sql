-- Cloud store, schema version 9: files (docs/files.md, "Cloud: store, rollouts, uploads").
-- A version's bytes are chunks in the content-addressed chunk store on disk (server.files.dir);
-- these tables hold what names, signs and paces them.

-- Published versions, cloud -> edge. One row per version; a version never changes once stored.
CREATE TABLE file_versions (
  path             TEXT    NOT NULL,
  version          INTEGER NOT NULL,     -- 1, 2, ... per path
  size             INTEGER NOT NULL,     -- bytes
  sha256           BLOB    NOT NULL,     -- 32 bytes, of the whole file
  metadata         TEXT    NOT NULL,     -- JSON object, keys sorted
  signature        BLOB    NOT NULL,     -- Ed25519 over FileVersion.signingInput, 64 bytes
  key_id           TEXT    NOT NULL,     -- ReleaseKey.keyId of the signing key
  chunk_lengths    BLOB    NOT NULL,     -- 4 bytes big-endian per chunk, in file order
  chunk_hashes     BLOB    NOT NULL,     -- 32 bytes (SHA-256) per chunk, same order
  created_at_ms    INTEGER NOT NULL,     -- FileHeader.created_at_ms
  published_at_ms  INTEGER NOT NULL,
  publisher        TEXT    NOT NULL,     -- the API key's name
  PRIMARY KEY (path, version)
) WITHOUT ROWID;

-- Rollouts of a version to a device, a group or the fleet, at a rate.
CREATE TABLE rollouts (
  id                 INTEGER PRIMARY KEY,
  path               TEXT    NOT NULL,
  version            INTEGER NOT NULL,
  target_kind        TEXT    NOT NULL,   -- device | group | fleet
  target             TEXT    NOT NULL,   -- the device id or group name; "" for the fleet
  rate_per_min       INTEGER NOT NULL,   -- devices admitted per minute of running time
  max_failure_share  REAL    NOT NULL,   -- pause when failed / reported exceeds it ...
  min_reports        INTEGER NOT NULL,   -- ... once at least this many devices reported an end
  state              TEXT    NOT NULL,   -- running | paused | cancelled
  reason             TEXT,               -- why it was paused or cancelled
  admitted           INTEGER NOT NULL,   -- devices admitted so far
  active_ms          INTEGER NOT NULL,   -- running time before active_since_ms
  active_since_ms    INTEGER,            -- when it last started running; NULL while not running
  created_by         TEXT    NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL
);
CREATE INDEX rollouts_path ON rollouts(path, version);

-- Each targeted device's state in a rollout.
CREATE TABLE rollout_devices (
  rollout         INTEGER NOT NULL,
  device          TEXT    NOT NULL,
  state           TEXT    NOT NULL,  -- pending|offered|downloading|verified|installed|failed|superseded
  bytes_done      INTEGER NOT NULL,  -- held verified by the device
  bytes_total     INTEGER NOT NULL,  -- the version's size
  bytes_received  INTEGER NOT NULL,  -- on the wire, as the device reported
  reason          TEXT,              -- failed / superseded: why
  admitted_at_ms  INTEGER,           -- NULL while pending
  updated_at_ms   INTEGER NOT NULL,
  PRIMARY KEY (rollout, device)
) WITHOUT ROWID;
CREATE INDEX rollout_devices_device ON rollout_devices(device, state);

-- Uploads, edge -> cloud: one row per device and transfer ("<path>@<version>").
CREATE TABLE uploads (
  device          TEXT    NOT NULL,
  transfer_id     TEXT    NOT NULL,
  collection      TEXT    NOT NULL,
  path            TEXT    NOT NULL,
  version         INTEGER NOT NULL,
  size            INTEGER NOT NULL,
  sha256          BLOB    NOT NULL,
  offer           BLOB    NOT NULL,  -- the FileOffer as received (protobuf)
  state           TEXT    NOT NULL,  -- FileState name: DOWNLOADING, VERIFIED, STORED, FAILED
  reason          TEXT,
  chunk_count     INTEGER NOT NULL,
  entries_known   INTEGER NOT NULL,
  delta_base      INTEGER NOT NULL,
  bytes_done      INTEGER NOT NULL,
  bytes_received  INTEGER NOT NULL,
  reported_state  TEXT,              -- the last state the device was told; NULL: none
  started_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL,
  PRIMARY KEY (device, transfer_id)
) WITHOUT ROWID;
CREATE INDEX uploads_path ON uploads(device, path, version);

-- An upload's chunk entries: known from the device's manifest pages, held once stored.
CREATE TABLE upload_chunks (
  device       TEXT    NOT NULL,
  transfer_id  TEXT    NOT NULL,
  idx          INTEGER NOT NULL,
  length       INTEGER NOT NULL,
  hash         BLOB    NOT NULL,     -- 32 bytes; zeros while unknown
  held         INTEGER NOT NULL,     -- 1 once the chunk store holds it
  PRIMARY KEY (device, transfer_id, idx)
) WITHOUT ROWID;

-- Edge file transfers (edgesync-files.db), schema version 1. Chunks themselves live in the
-- content-addressed directory <data_dir>/chunks; these tables say which transfer needs which.

-- Downloads (cloud -> edge): one row per offer taken (FileInbox.begin).
CREATE TABLE downloads (
  transfer_id    TEXT    PRIMARY KEY,  -- "<path>@<version>"
  path           TEXT    NOT NULL,
  version        INTEGER NOT NULL,
  offer          BLOB    NOT NULL,     -- the FileOffer as received (protobuf)
  state          INTEGER NOT NULL,     -- FileState number
  reason         TEXT,
  entries_known  INTEGER NOT NULL,     -- chunk entries known (manifest pages / delta plan)
  delta_base     INTEGER NOT NULL,     -- the delta plan's base version, 0 = from the manifest
  bytes_done     INTEGER NOT NULL,     -- bytes of held entries
  bytes_received INTEGER NOT NULL,     -- frame bytes, all sessions
  reported_state INTEGER NOT NULL,     -- the state the sender was last told (0 = none)
  change_seq     INTEGER NOT NULL,     -- orders unreported changes, oldest first
  updated_ms     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX downloads_path ON downloads(path, version);
CREATE INDEX downloads_unreported ON downloads(change_seq) WHERE reported_state <> state;

-- A download's chunk entries in file order; hash all zero while unknown (new chunks of a delta).
CREATE TABLE download_entries (
  transfer_id TEXT    NOT NULL,
  idx         INTEGER NOT NULL,
  length      INTEGER NOT NULL,
  hash        BLOB    NOT NULL,  -- 32 bytes
  held        INTEGER NOT NULL,  -- 1 = in the chunk store, verified
  PRIMARY KEY (transfer_id, idx)
) WITHOUT ROWID;
CREATE INDEX download_entries_missing ON download_entries(transfer_id, idx) WHERE held = 0;
CREATE INDEX download_entries_hash ON download_entries(hash);

-- What is installed at each path, and the version kept before it (0 = none).
CREATE TABLE installed (
  path             TEXT    PRIMARY KEY,
  version          INTEGER NOT NULL,
  previous_version INTEGER NOT NULL,
  installed_ms     INTEGER NOT NULL
) WITHOUT ROWID;

-- Installs, numbered for watchers (GET /v1/files/events?after=N); the newest 1000 are kept.
CREATE TABLE install_events (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  path    TEXT    NOT NULL,
  version INTEGER NOT NULL,
  at_ms   INTEGER NOT NULL
);

-- Uploads (edge -> cloud): one row per version put, path "<collection>/<name>".
CREATE TABLE uploads (
  path        TEXT    NOT NULL,
  version     INTEGER NOT NULL,  -- 1, 2, ... per path on this device
  collection  TEXT    NOT NULL,
  priority    INTEGER NOT NULL,
  size        INTEGER NOT NULL,
  sha256      BLOB    NOT NULL,
  chunk_count INTEGER NOT NULL,
  created_ms  INTEGER NOT NULL,
  state       INTEGER NOT NULL,  -- 0 = queued, else the cloud's last reported FileState
  reason      TEXT,
  bytes_done  INTEGER NOT NULL,  -- as the cloud reported
  PRIMARY KEY (path, version)
) WITHOUT ROWID;

-- An upload's chunks in file order, until the cloud stored it.
CREATE TABLE upload_chunks (
  path    TEXT    NOT NULL,
  version INTEGER NOT NULL,
  idx     INTEGER NOT NULL,
  length  INTEGER NOT NULL,
  hash    BLOB    NOT NULL,
  PRIMARY KEY (path, version, idx)
) WITHOUT ROWID;
CREATE INDEX upload_chunks_hash ON upload_chunks(hash);

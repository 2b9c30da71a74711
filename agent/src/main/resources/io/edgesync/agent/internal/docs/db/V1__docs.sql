-- Edge document replica and command inbox (edgesync-docs.db), schema version 1.
CREATE TABLE meta (
  k TEXT PRIMARY KEY,  -- change_seq | hlc | cursor:<scope>
  v INTEGER NOT NULL,
  t TEXT
) WITHOUT ROWID;

CREATE TABLE docs (
  scope         TEXT    NOT NULL,  -- device | fleet | group:<name>
  collection    TEXT    NOT NULL,
  key           TEXT    NOT NULL,
  value         BLOB,              -- the local value, UTF-8 JSON; NULL = deleted
  version       INTEGER NOT NULL,  -- the cloud version the local value is based on (0 = none)
  base_value    BLOB,              -- the value of that version (for merge patches)
  hlc           TEXT    NOT NULL,
  pending_seq   INTEGER NOT NULL,  -- the local change waiting for its outcome; 0 = none
  full_required INTEGER NOT NULL,  -- send the whole value, not a patch
  conflicted    INTEGER NOT NULL,  -- an open manual conflict on the cloud
  updated_ms    INTEGER NOT NULL,
  PRIMARY KEY (scope, collection, key)
) WITHOUT ROWID;
CREATE INDEX docs_pending ON docs(pending_seq) WHERE pending_seq > 0;

CREATE TABLE commands (
  id          TEXT    PRIMARY KEY,
  name        TEXT    NOT NULL,
  payload     BLOB    NOT NULL,
  received_ms INTEGER NOT NULL,
  deadline_ms INTEGER NOT NULL,  -- local clock
  state       TEXT    NOT NULL,  -- received | running | succeeded | failed | expired
  result      BLOB,
  error       TEXT,
  confirmed   INTEGER NOT NULL   -- the cloud stored the final state
) WITHOUT ROWID;

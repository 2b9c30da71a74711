-- Cloud store, schema version 2: documents, conflicts, audit, groups, commands.
-- One counter orders every document write (meta 'doc_version'); the cloud HLC resumes from meta.
CREATE TABLE meta (
  k TEXT PRIMARY KEY,
  v INTEGER NOT NULL,
  t TEXT
) WITHOUT ROWID;

-- The current version of each key (tombstones included until every reader has seen them).
CREATE TABLE docs (
  scope             TEXT    NOT NULL,  -- device:<id> | fleet | group:<name>
  collection        TEXT    NOT NULL,
  key               TEXT    NOT NULL,
  version           INTEGER NOT NULL,
  value             BLOB,              -- UTF-8 JSON; NULL = deleted
  hlc_wall          INTEGER NOT NULL,
  hlc_logical       INTEGER NOT NULL,
  hlc_node          TEXT    NOT NULL,
  writer            TEXT    NOT NULL,  -- device id or $cloud
  foreign_version   INTEGER NOT NULL,
  conflict_id       INTEGER NOT NULL,  -- open conflict, 0 = none
  origin_device     TEXT    NOT NULL,
  origin_change_seq INTEGER NOT NULL,
  updated_ms        INTEGER NOT NULL,
  PRIMARY KEY (scope, collection, key)
) WITHOUT ROWID;
CREATE INDEX docs_by_version ON docs(scope, version);

-- Recent versions, in version order (appends are sequential): the bases of three-way merges and
-- merge patches. Pruned by version range: the newest SqliteDocuments.HISTORY_VERSIONS are kept.
CREATE TABLE doc_history (
  version     INTEGER PRIMARY KEY,
  scope       TEXT    NOT NULL,
  collection  TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  value       BLOB,
  hlc_wall    INTEGER NOT NULL,
  hlc_logical INTEGER NOT NULL,
  hlc_node    TEXT    NOT NULL
);

CREATE TABLE conflicts (
  id              INTEGER PRIMARY KEY,
  scope           TEXT    NOT NULL,
  collection      TEXT    NOT NULL,
  key             TEXT    NOT NULL,
  device          TEXT    NOT NULL,
  strategy        TEXT    NOT NULL,
  status          TEXT    NOT NULL,  -- open | resolved
  flagged         INTEGER NOT NULL,
  base_version    INTEGER NOT NULL,
  base_value      BLOB,
  cloud_version   INTEGER NOT NULL,
  cloud_value     BLOB,
  cloud_hlc       TEXT    NOT NULL,
  edge_change_seq INTEGER NOT NULL,
  edge_value      BLOB,
  edge_hlc        TEXT    NOT NULL,
  field_conflicts TEXT    NOT NULL,
  note            TEXT,
  outcome         TEXT,
  resolved_by     TEXT,
  result_version  INTEGER NOT NULL,
  result_value    BLOB,
  created_ms      INTEGER NOT NULL,
  resolved_ms     INTEGER NOT NULL
);
CREATE INDEX conflicts_by_status ON conflicts(status, id);

CREATE TABLE audit (
  id             INTEGER PRIMARY KEY,
  at_ms          INTEGER NOT NULL,
  conflict_id    INTEGER NOT NULL,
  scope          TEXT    NOT NULL,
  collection     TEXT    NOT NULL,
  key            TEXT    NOT NULL,
  device         TEXT    NOT NULL,
  strategy       TEXT    NOT NULL,
  outcome        TEXT    NOT NULL,
  resolved_by    TEXT    NOT NULL,
  base_version   INTEGER NOT NULL,
  base_value     BLOB,
  cloud_version  INTEGER NOT NULL,
  cloud_value    BLOB,
  cloud_hlc      TEXT    NOT NULL,
  edge_value     BLOB,
  edge_hlc       TEXT    NOT NULL,
  result_version INTEGER NOT NULL,
  result_value   BLOB,
  note           TEXT
);

CREATE TABLE device_docs (
  device          TEXT PRIMARY KEY,
  last_change_seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE device_cursors (
  device  TEXT    NOT NULL,
  scope   TEXT    NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (device, scope)
) WITHOUT ROWID;

CREATE TABLE device_groups (
  device TEXT NOT NULL,
  grp    TEXT NOT NULL,
  PRIMARY KEY (device, grp)
) WITHOUT ROWID;

CREATE TABLE commands (
  id          TEXT    PRIMARY KEY,
  device      TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  payload     BLOB    NOT NULL,
  created_ms  INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  state       TEXT    NOT NULL,  -- queued | delivered | succeeded | failed | expired
  result      BLOB,
  error       TEXT,
  deliveries  INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX commands_by_device ON commands(device, state, created_ms);

-- Cloud store, schema version 4: documents as an append-only log of versions plus a narrow index.
--
-- Before, `docs` held every key's whole current row (value included) and `doc_history` a second
-- copy of every version's value: a change rewrote a ~300-byte row on a random page of `docs` and
-- appended its value again. Now every version is written once, as an append to `doc_log` (keyed by
-- the store-wide version), and `docs` keeps only which version of each key is current (a row of a
-- few dozen bytes), so a commit dirties far fewer pages. The current version of a key is never
-- pruned from the log; older ones are kept as merge bases for the newest HISTORY_VERSIONS versions.
CREATE TABLE doc_log (
  version           INTEGER PRIMARY KEY,
  scope             TEXT    NOT NULL,  -- device:<id> | fleet | group:<name>
  collection        TEXT    NOT NULL,
  key               TEXT    NOT NULL,
  value             BLOB,              -- UTF-8 JSON; NULL = deleted
  hlc_wall          INTEGER NOT NULL,
  hlc_logical       INTEGER NOT NULL,
  hlc_node          TEXT    NOT NULL,
  writer            TEXT    NOT NULL,  -- device id or $cloud
  foreign_version   INTEGER NOT NULL,
  conflict_id       INTEGER NOT NULL,  -- open conflict, 0 = none
  origin_device     TEXT    NOT NULL,
  origin_change_seq INTEGER NOT NULL,
  updated_ms        INTEGER NOT NULL
);

-- Versions that were history only (not current) keep their value and stamp; who wrote them was not
-- recorded before and is not needed of a base.
INSERT INTO doc_log(version, scope, collection, key, value, hlc_wall, hlc_logical, hlc_node,
                    writer, foreign_version, conflict_id, origin_device, origin_change_seq,
                    updated_ms)
  SELECT version, scope, collection, key, value, hlc_wall, hlc_logical, hlc_node, '', 0, 0, '', 0, 0
  FROM doc_history;
INSERT OR REPLACE INTO doc_log(version, scope, collection, key, value, hlc_wall, hlc_logical,
                               hlc_node, writer, foreign_version, conflict_id, origin_device,
                               origin_change_seq, updated_ms)
  SELECT version, scope, collection, key, value, hlc_wall, hlc_logical, hlc_node, writer,
         foreign_version, conflict_id, origin_device, origin_change_seq, updated_ms
  FROM docs;

CREATE TABLE doc_current (
  scope       TEXT    NOT NULL,
  collection  TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  version     INTEGER NOT NULL,  -- the row of doc_log holding this key's current version
  deleted     INTEGER NOT NULL,  -- 1: the current version is a tombstone
  conflict_id INTEGER NOT NULL,  -- open conflict on the current version, 0 = none
  PRIMARY KEY (scope, collection, key)
) WITHOUT ROWID;
INSERT INTO doc_current(scope, collection, key, version, deleted, conflict_id)
  SELECT scope, collection, key, version, value IS NULL, conflict_id FROM docs;

DROP TABLE doc_history;
DROP TABLE docs;
ALTER TABLE doc_current RENAME TO docs;
-- "Everything of a scope after version V" (catch-up and pushes) reads the log in version order and
-- keeps the rows that are still current: an index entry is appended per version, where an index of
-- docs by version would delete and insert one on a random page per change.
CREATE INDEX doc_log_by_scope ON doc_log(scope, version);
-- Tombstones waiting to be collected (a partial index: live documents never touch it).
CREATE INDEX docs_tombstones ON docs(scope, version) WHERE deleted=1;

-- Log rows at or below this version that are no longer current have been deleted (see
-- SqliteDocuments): the pruning resumes from here.
INSERT OR REPLACE INTO meta(k, v, t) VALUES ('doc_log_pruned', 0, NULL);

-- An audit record of a conflict does not copy the values its conflict row holds: bit 1 base,
-- 2 cloud, 4 edge, 8 result = that value is read from the conflict row (SqliteDocuments).
ALTER TABLE audit ADD COLUMN shared_values INTEGER NOT NULL DEFAULT 0;

-- Merge patches answered with "resend whole" (their base left the history), until the device sends
-- a later change of the key: repeated in every Welcome, so a lost DocAck cannot lose the edit.
CREATE TABLE doc_resend (
  device     TEXT    NOT NULL,
  change_seq INTEGER NOT NULL,
  scope      TEXT    NOT NULL,
  collection TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  PRIMARY KEY (device, change_seq)
) WITHOUT ROWID;

-- Cloud store, schema version 13 (PostgreSQL's V5__doc_collected.sql): the deletes whose
-- tombstones were collected, one row per key (the newest). A tombstone is collected once every
-- device with a session that reads its scope has passed it; a device that had no session yet may
-- still hold a change of that key made on an older base, and that change must meet the delete as
-- a concurrent version (a conflict decided by the key's strategy), not fast-forward over nothing.
-- Consulted only for a change to a key that has no row in docs, on a base below the row's version.
CREATE TABLE doc_collected (
  scope        TEXT    NOT NULL,
  collection   TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  version      INTEGER NOT NULL,  -- the collected tombstone's version
  hlc_wall     INTEGER NOT NULL,
  hlc_logical  INTEGER NOT NULL,
  hlc_node     TEXT    NOT NULL,
  writer       TEXT    NOT NULL,  -- device id or $cloud
  PRIMARY KEY (scope, collection, key)
) WITHOUT ROWID;

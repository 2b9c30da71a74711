-- SQLite's V13__doc_collected.sql: the deletes whose tombstones were collected, one row per key
-- (the newest), so that a change made on an older base by a device that had no session yet meets
-- the delete as a concurrent version instead of fast-forwarding over nothing.
CREATE TABLE doc_collected (
  scope        TEXT   NOT NULL,
  collection   TEXT   NOT NULL,
  key          TEXT   NOT NULL,
  version      BIGINT NOT NULL,
  hlc_wall     BIGINT NOT NULL,
  hlc_logical  BIGINT NOT NULL,
  hlc_node     TEXT   NOT NULL,
  writer       TEXT   NOT NULL,
  PRIMARY KEY (scope, collection, key)
);

-- Edge document replica, schema version 2: changes the cloud refused (DocAck.refused).
-- A refused change is no longer pending; the local value went back to the cloud's version.
CREATE TABLE refusals (
  change_seq  INTEGER PRIMARY KEY,
  scope       TEXT    NOT NULL,
  collection  TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  code        TEXT    NOT NULL,  -- the ErrorCode's name, e.g. NOT_AUTHORIZED
  reason      TEXT    NOT NULL,
  refused_ms  INTEGER NOT NULL
);

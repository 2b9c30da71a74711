-- Edge outbox, schema version 2: stream dedup windows.
-- The SHA-256 of the last dedup_window records of each stream that declares a window
-- (streams.<name>.dedup_window); an append equal to one of them is not stored.
CREATE TABLE recent (
  stream  TEXT    NOT NULL,
  seq     INTEGER NOT NULL,
  digest  BLOB    NOT NULL,            -- SHA-256 of the payload, 32 bytes
  PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
-- The daily byte budget's count lives in meta under key 'budget' as '<utc day>:<bytes spent>'.

-- Edge outbox, schema version 3: what each stream's record batches cost on the wire, all time.
-- Counted when a batch is sent (resends included), as the cloud counts what it receives
-- (server V3__wire_accounting.sql): raw = the records in the uncompressed record layout, encoded =
-- the RecordBatch payload, frame = the whole frame with its checksum trailer. Saved in the
-- transaction of each ack of the stream and when the agent stops.
CREATE TABLE wire_totals (
  stream         TEXT PRIMARY KEY,
  batches        INTEGER NOT NULL,
  records        INTEGER NOT NULL,
  payload_bytes  INTEGER NOT NULL,   -- record payloads (the application's bytes)
  raw_bytes      INTEGER NOT NULL,
  encoded_bytes  INTEGER NOT NULL,
  frame_bytes    INTEGER NOT NULL
) WITHOUT ROWID;

-- Cloud store, schema version 11: what retention expired, per device and stream (StreamExpiry).
-- Expiry deletes whole batches, oldest first, and never touches last_seq (the checkpoint), so a
-- device never resends what expired. These counters make the loss visible: records and stored
-- bytes (length of the batches' data) expired so far, and the highest sequence expired (every
-- record at or below it is gone; 0: nothing expired).
ALTER TABLE streams ADD COLUMN expired_records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN expired_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN expired_through_seq INTEGER NOT NULL DEFAULT 0;

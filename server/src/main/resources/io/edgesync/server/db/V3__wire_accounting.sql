-- Cloud store, schema version 3: what each device's batches cost on the wire, per stream.
-- Every batch received counts, resends included: raw = its records in the uncompressed record
-- layout, payload = the encoded RecordBatch payload, frame = the whole frame.
ALTER TABLE streams ADD COLUMN wire_batches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN wire_raw_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN wire_payload_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN wire_frame_bytes INTEGER NOT NULL DEFAULT 0;

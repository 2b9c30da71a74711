-- SQLite's V11__retention.sql (docs/operations.md "Retention"): what the cloud's retention expired
-- per device and stream; every sequence up to expired_through_seq is gone from batches.
ALTER TABLE streams ADD COLUMN expired_records BIGINT NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN expired_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN expired_through_seq BIGINT NOT NULL DEFAULT 0;

-- SQLite's V10__sessions_leases.sql (docs/operations.md "Several nodes").
-- A device's session is claimed by the node that admitted it: each claim takes the next epoch, and
-- a node commits for the device only while its epoch is the device's.
ALTER TABLE devices ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN session_node TEXT;

-- Work that must run on one node at a time: the node named holder runs it until expires_at_ms.
CREATE TABLE leases (
  name          TEXT   PRIMARY KEY,
  holder        TEXT   NOT NULL,
  epoch         BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL
);

-- Several server nodes on one store (docs/operations.md "Several nodes").
-- A device's session is claimed by the node that admitted it: each claim takes the next epoch, and
-- a node commits for the device only while its epoch is the device's (fencing: a node whose
-- session was superseded elsewhere can no longer commit for the device).
ALTER TABLE devices ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN session_node TEXT;

-- Work that must run on one node at a time (expiry, export, dictionary training): the node named
-- holder runs it until expires_at_ms; epoch counts the changes of holder.
CREATE TABLE leases (
  name          TEXT    PRIMARY KEY,
  holder        TEXT    NOT NULL,
  epoch         INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

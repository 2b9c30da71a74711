-- Edge outbox, schema version 4: the trained zstd dictionaries the cloud shipped, the newest of
-- each stream (docs/codecs.md, "Dictionaries"). Batches of the stream name `id`; Hello lists the
-- ids so that the cloud does not send them again.
CREATE TABLE dictionaries (
  stream  TEXT    PRIMARY KEY,
  id      INTEGER NOT NULL,
  data    BLOB    NOT NULL
) WITHOUT ROWID;

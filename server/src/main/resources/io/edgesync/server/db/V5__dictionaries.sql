-- Cloud store, schema version 5: trained zstd dictionaries per stream (docs/codecs.md,
-- "Dictionaries"). The id is the dictionary's version: AUTOINCREMENT never hands out an id again,
-- not even after its row was deleted (the newest server.dictionaries.keep_per_stream are kept).
CREATE TABLE dictionaries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  stream          TEXT    NOT NULL,
  data            BLOB,               -- NULL while the id is allocated and the training runs
  trained_at_ms   INTEGER NOT NULL
);
CREATE INDEX dictionaries_by_stream ON dictionaries(stream, id);

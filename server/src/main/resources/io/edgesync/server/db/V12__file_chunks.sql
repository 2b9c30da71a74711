-- Cloud store, schema version 12: file chunks in the database (PostgreSQL's V4__file_chunks.sql).
-- Created here too, and left empty: the SQLite store keeps its chunks on disk
-- (server.files.dir/chunks, support.files.ChunkStore), where `edgesync server backup` copies them
-- and the page cache serves them. The table keeps the two schemas alike, so that SQLite's V<n> stays
-- PostgreSQL's V<n-8> (docs/operations.md, "Upgrade").
CREATE TABLE file_chunks (
  sha256  BLOB NOT NULL PRIMARY KEY,  -- 32 bytes, the SHA-256 of data: the chunk's name
  data    BLOB NOT NULL               -- the chunk, up to 256 KiB (FastCdc.DEFAULT)
) WITHOUT ROWID;

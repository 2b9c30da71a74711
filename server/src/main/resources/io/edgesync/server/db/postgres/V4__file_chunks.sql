-- SQLite's V12__file_chunks.sql: file chunks (published versions, devices' uploads) in the
-- database, content-addressed, one row per chunk whatever files, versions and devices share it
-- (server.files.PostgresChunkStore). Every node reads every chunk from here, so nodes need no shared
-- volume, and pg_dump includes the chunks. A row is written once (INSERT ... ON CONFLICT DO
-- NOTHING) and never updated; its bytes are checked against sha256 on the way in and out.
-- data is TOASTed (stored out of line, compressed where that helps) as every BYTEA over ~2 KB is.
CREATE TABLE file_chunks (
  sha256  BYTEA NOT NULL PRIMARY KEY,  -- 32 bytes, the SHA-256 of data: the chunk's name
  data    BYTEA NOT NULL              -- the chunk, up to 256 KiB (FastCdc.DEFAULT)
);

// The queue's schema, in one place with the rest of its SQL. See FORMAT.md.
#pragma once

namespace ferry::storage {

inline constexpr int kSchemaVersion = 1;

// Characters of a new epoch (of [a-z0-9]; the landing protocol allows 1 to 32).
inline constexpr int kEpochLength = 8;

// Page size of a file Ferry creates (SQLite's default is 4096). Existing files keep theirs: the
// size is in the file's header, any SQLite reads either, and it needs no new schema version.
inline constexpr int kNewFilePageSize = 1024;

// Run once on a new, empty database, inside a transaction, after PRAGMA auto_vacuum.
inline constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE blocks(
  first_seq   INTEGER PRIMARY KEY,
  last_seq    INTEGER NOT NULL,
  raw_bytes   INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  received_mono_ms INTEGER NOT NULL,
  data        BLOB NOT NULL,
  acks        BLOB);
CREATE TABLE batches(
  first_seq INTEGER PRIMARY KEY,
  last_seq  INTEGER NOT NULL,
  attempts  INTEGER NOT NULL DEFAULT 0);
CREATE TABLE removed(seq INTEGER PRIMARY KEY);
CREATE TABLE dead_letters(
  id          INTEGER PRIMARY KEY,
  created_ms  INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  topic       TEXT NOT NULL,
  payload     BLOB NOT NULL,
  seq         INTEGER);
PRAGMA user_version = 1;
)sql";

// Added after version 1 was released: run on every open. A file without it is still version 1,
// and a Ferry that does not know the table leaves it alone, so neither an upgrade nor a
// downgrade of the package makes the file unreadable.
inline constexpr const char* kCreateKeptAcks = R"sql(
CREATE TABLE IF NOT EXISTS kept_acks(
  id        INTEGER PRIMARY KEY,
  first_seq INTEGER NOT NULL,
  acks      BLOB NOT NULL);
)sql";

// Added after version 1 as kept_acks was: the metrics Sparkplug B BIRTH messages defined, per
// edge node ("group/node") or device ("group/node/device"), so that DATA messages naming
// metrics only by alias, or omitting their datatype, are understood after a restart.
inline constexpr const char* kCreateSparkplugMetrics = R"sql(
CREATE TABLE IF NOT EXISTS sparkplug_metrics(
  scope    TEXT NOT NULL,
  name     TEXT NOT NULL,
  alias    INTEGER,
  datatype INTEGER NOT NULL,
  PRIMARY KEY(scope, name)) WITHOUT ROWID;
)sql";

}  // namespace ferry::storage

// A thin RAII layer over sqlite3 for the rest of storage/. Nothing outside storage/ includes
// this header (it exposes sqlite3 types). Not thread-safe: the owner serializes access.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::storage {

// Maps a SQLite result code to a Status with `what` and the database's message.
// SQLITE_FULL -> kNoSpace, SQLITE_CORRUPT/NOTADB -> kCorruption, SQLITE_BUSY -> kUnavailable.
platform::Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_), bind_rc_(o.bind_rc_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // Binds parameter `i` (from 1). A failed bind (SQLITE_TOOBIG for a value over SQLite's
  // limit, SQLITE_RANGE, SQLITE_NOMEM) is remembered: the next Step or Run returns it without
  // executing the statement, and resets, so a statement never runs with a parameter missing.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view text);
  Stmt& BindBlob(int i, std::string_view bytes);
  Stmt& BindNull(int i);
  // Steps once: true with a row, false when done; the error status otherwise (also the first
  // failed bind since the last reset).
  platform::Result<bool> Step();
  // Steps to completion and resets, for statements that return no rows.
  platform::Status Run();
  // Resets the statement, clears its bindings and any remembered bind failure.
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string_view Text(int col) const;
  std::string_view Blob(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  Stmt& Bound(int rc);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = SQLITE_OK;  // the first failed bind since the last reset
};

class Db {
 public:
  ~Db();
  struct Options {
    // The SQLite VFS to reach the disk through (empty: SQLite's default; tests register
    // fault-injecting ones).
    std::string vfs;
    // locking_mode EXCLUSIVE, taken by Open: the WAL index lives in this connection's heap (no
    // -shm file, no shared memory written back to flash), and no other connection, in this
    // process or another, can open the file until this one is closed: Open then returns
    // kUnavailable ("in use by another process").
    bool exclusive = false;
  };
  // Opens (creating if needed) the database at `path`.
  static platform::Result<std::unique_ptr<Db>> Open(const std::string& path,
                                                    const Options& options);
  platform::Status Exec(std::string_view sql);
  // A prepared statement kept by the caller for reuse.
  platform::Result<Stmt> Prepare(std::string_view sql);
  // Runs a one-row, one-integer query ("PRAGMA user_version").
  platform::Result<int64_t> QueryInt(std::string_view sql);
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace ferry::storage

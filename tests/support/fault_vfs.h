// A SQLite VFS for tests that wraps the default one and injects faults on demand, the way
// LevelDB's fault_injection_test.cc wraps its Env. Registered by tests only, never by Ferry:
// a queue uses it when QueueOptions::vfs names it.
//
// Faults, each deterministic (counted, never timed), each in force until changed:
// - xSync fails with SQLITE_IOERR_FSYNC, or takes a set time;
// - xWrite fails with ENOSPC (SQLITE_FULL) or EIO (SQLITE_IOERR_WRITE) after N more writes;
// - xRead of one database file returns corrupt bytes (every byte inverted), or only the bytes
//   of one range of it (a rotten page), or fails there with SQLITE_IOERR_READ (a bad sector);
// - taking a lock fails (xLock with SQLITE_IOERR_LOCK, xShmLock with SQLITE_IOERR_SHMLOCK),
//   as fcntl does with ENOLCK: every statement then fails before it reads;
// - a POWER CUT. The VFS remembers, per file, every write and truncation not yet followed by an
//   xSync of that file. At the cut (now, or at the Nth mutating operation from now: xWrite,
//   xTruncate, xSync, xDelete), every file handle open at that moment dies: from then on it
//   writes, truncates, syncs and deletes nothing (those fail with SQLITE_IOERR) and no file can
//   be opened, until PowerOn(). Reads still work; their answers no longer matter. PowerOn(),
//   once the dead handles are closed, reduces each file to what survived: with kDropUnsynced
//   exactly what was synced; with kKeepRandomPrefix a random prefix (in issue order) of the
//   unsynced operations, the first one left out torn at a 512-byte sector boundary (some of
//   its leading sectors written, the rest as before). Then new handles work normally.
//
// Assumptions, stated because the VFS cannot see them:
// - Directory operations (creating, deleting and renaming files) are durable at once. SQLite
//   fsyncs the directory when it creates a WAL or journal, which covers the database file in
//   the same directory; a rename done outside SQLite (quarantine) is not seen at all: a file
//   whose inode changed under its name is left alone at PowerOn.
// - Writes reach the disk in the order they were issued (the prefix model); SQLite's WAL
//   checksums make a reordered tail equivalent to a shorter prefix.
// - The -shm file and every xShm* call pass through untouched: shared memory is not durable and
//   SQLite rebuilds the WAL index from the WAL when the first connection opens the file.
// - Memory mapping is disabled (xFetch never maps), so every read goes through xRead.
// - Temporary files (no name, or delete-on-close) are not tracked.
//
// Thread-safety: all methods and the VFS callbacks serialize on one mutex. The object must
// outlive every connection opened on it; it unregisters itself when destroyed.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ferry::testing {

class FaultVfs {
 public:
  enum class WriteError { kNone, kNoSpace, kIo };
  enum class CutMode { kDropUnsynced, kKeepRandomPrefix };

  // Registers a VFS called `name` (not the default) wrapping SQLite's default VFS.
  explicit FaultVfs(std::string name);
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  const std::string& name() const { return name_; }

  // false: xSync does not call the real fsync (durability is simulated anyway; saves time).
  void SetRealSyncs(bool on);
  void SetSyncError(bool fail);
  void SetSyncDelay(std::chrono::milliseconds delay);
  // After `after` more successful writes, every write fails with `error` (kNone: never).
  void SetWriteError(WriteError error, uint64_t after = 0);
  // Every read of the database file now at `path` (that file, not a new one made under its
  // name later) returns its bytes inverted; "" turns it off.
  void SetReadCorruption(const std::string& path);
  // Reads of the database file now at `path` that overlap bytes [begin, end) get those bytes
  // inverted (kCorrupt) or fail with SQLITE_IOERR_READ (kIo); "" turns it off. Independent of
  // SetReadCorruption. Only reads of the file itself: a page whose newer copy is in the WAL
  // is read from there, unharmed.
  enum class ReadFault { kCorrupt, kIo };
  void SetReadFault(const std::string& path, ReadFault fault, int64_t begin, int64_t end);
  void SetLockError(bool fail);

  // Cuts the power now. `seed` chooses what survives under kKeepRandomPrefix.
  void CutPower(CutMode mode, uint64_t seed);
  // Cuts the power at the `ops`th mutating operation from now (that operation fails); 0 disarms.
  void CutPowerAfter(uint64_t ops, CutMode mode, uint64_t seed);
  bool power_cut() const;
  // Reduces the files to what survived the cut and lets new handles work. False (and nothing
  // done) while a handle from before the cut is still open. True without a cut: no-op.
  bool PowerOn();

  // Mutating operations (xWrite, xTruncate, xSync, xDelete) seen so far.
  uint64_t ops() const;
  // Whether the last PowerOn tore a write (kept part of one) and how many unsynced
  // operations it threw away.
  bool last_cut_tore() const;
  uint64_t last_cut_dropped() const;

  struct File;  // one open handle (public for the C callbacks in fault_vfs.cc)

 private:
  struct Op {              // undo information of one unsynced write or truncation
    int64_t offset = 0;    // where `before` goes back
    int64_t old_size = 0;  // file size before the operation
    std::string before;    // the bytes it replaced (those that existed)
    int64_t length = 0;    // bytes written (0 for a truncation)
  };
  struct Tracked {
    uint64_t inode = 0;
    std::vector<Op> unsynced;
  };

  friend struct Callbacks;
  bool CountOpLocked();  // false: the power is (now) off
  void CutLocked();
  void ReduceLocked(const std::string& path, Tracked& t);

  std::string name_;
  sqlite3_vfs vfs_{};
  sqlite3_vfs* real_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, Tracked> files_;
  std::set<File*> open_;
  uint64_t generation_ = 0;  // handles opened before the last cut have an older one
  bool off_ = false;
  bool real_syncs_ = true;
  bool sync_error_ = false;
  std::chrono::milliseconds sync_delay_{0};
  WriteError write_error_ = WriteError::kNone;
  uint64_t writes_before_error_ = 0;
  uint64_t corrupt_inode_ = 0;  // reads of this file are corrupted (0: none)
  uint64_t fault_inode_ = 0;    // reads of this file's range [fault_begin_, fault_end_) go wrong
  ReadFault fault_ = ReadFault::kCorrupt;
  int64_t fault_begin_ = 0, fault_end_ = 0;
  bool lock_error_ = false;
  uint64_t ops_ = 0;
  uint64_t cut_at_op_ = 0;  // 0: no cut armed
  CutMode cut_mode_ = CutMode::kDropUnsynced;
  std::mt19937_64 rng_;
  bool last_tore_ = false;
  uint64_t last_dropped_ = 0;
};

}  // namespace ferry::testing

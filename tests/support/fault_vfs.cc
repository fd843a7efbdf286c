#include "support/fault_vfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <thread>

namespace ferry::testing {

namespace {

constexpr int64_t kSector = 512;

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

void WriteAt(int fd, const char* data, size_t n, int64_t offset) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, data, n, offset);
    if (w <= 0) return;  // a test VFS: a failure shows up as a wrong file, checked by the test
    data += w, n -= static_cast<size_t>(w), offset += w;
  }
}

}  // namespace

struct FaultVfs::File {
  sqlite3_file base;  // first: SQLite sees a File as a sqlite3_file
  FaultVfs* vfs = nullptr;
  sqlite3_file* real = nullptr;  // the wrapped file, allocated right after this struct
  std::string path;              // empty when not tracked
  uint64_t inode = 0;
  uint64_t generation = 0;
  bool main_db = false;

  static constexpr size_t RealOffset() { return (sizeof(File) + 15) & ~size_t{15}; }
  bool Dead() const { return vfs->off_ || generation < vfs->generation_; }
  // The unsynced operations of this file, or null when it is not tracked.
  Tracked* Track() {
    if (path.empty()) return nullptr;
    auto it = vfs->files_.find(path);
    return it != vfs->files_.end() && it->second.inode == inode ? &it->second : nullptr;
  }
};

// The C callbacks SQLite calls; each takes the VFS's lock.
struct Callbacks {
  using File = FaultVfs::File;
  static File* F(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
  static FaultVfs* V(sqlite3_vfs* v) { return static_cast<FaultVfs*>(v->pAppData); }

  static int Close(sqlite3_file* file) {
    File* f = F(file);
    std::lock_guard<std::mutex> lock(f->vfs->mu_);
    f->vfs->open_.erase(f);
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    f->~File();
    return rc;
  }

  static int Read(sqlite3_file* file, void* buf, int n, sqlite3_int64 off) {
    File* f = F(file);
    std::lock_guard<std::mutex> lock(f->vfs->mu_);
    FaultVfs& v = *f->vfs;
    bool ours = f->main_db && f->inode != 0;
    int64_t from = std::max<int64_t>(off, v.fault_begin_);
    int64_t to = std::min<int64_t>(off + n, v.fault_end_);
    bool in_range = ours && f->inode == v.fault_inode_ && from < to;
    if (in_range && v.fault_ == FaultVfs::ReadFault::kIo) return SQLITE_IOERR_READ;
    int rc = f->real->pMethods->xRead(f->real, buf, n, off);
    if (rc != SQLITE_OK) return rc;
    auto* p = static_cast<unsigned char*>(buf);
    if (ours && f->inode == v.corrupt_inode_) {
      for (int i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(~p[i]);
    }
    if (in_range) {
      for (int64_t i = from; i < to; ++i) p[i - off] = static_cast<unsigned char>(~p[i - off]);
    }
    return rc;
  }

  // The bytes in [off, off+n) that exist now, for undoing an operation over them.
  static std::string Before(File* f, int64_t off, int64_t n, int64_t size) {
    int64_t have = std::clamp<int64_t>(size - off, 0, n);
    std::string out(static_cast<size_t>(have), '\0');
    if (have > 0) f->real->pMethods->xRead(f->real, out.data(), static_cast<int>(have), off);
    return out;
  }

  static int Write(sqlite3_file* file, const void* buf, int n, sqlite3_int64 off) {
    File* f = F(file);
    FaultVfs& v = *f->vfs;
    std::lock_guard<std::mutex> lock(v.mu_);
    if (f->Dead() || !v.CountOpLocked()) return SQLITE_IOERR_WRITE;
    if (v.write_error_ != FaultVfs::WriteError::kNone) {
      if (v.writes_before_error_ == 0) {
        return v.write_error_ == FaultVfs::WriteError::kNoSpace ? SQLITE_FULL : SQLITE_IOERR_WRITE;
      }
      --v.writes_before_error_;
    }
    FaultVfs::Tracked* t = f->Track();
    FaultVfs::Op op;
    if (t) {
      sqlite3_int64 size = 0;
      f->real->pMethods->xFileSize(f->real, &size);
      op = {off, size, Before(f, off, n, size), n};
    }
    int rc = f->real->pMethods->xWrite(f->real, buf, n, off);
    if (rc == SQLITE_OK && t) t->unsynced.push_back(std::move(op));
    return rc;
  }

  static int Truncate(sqlite3_file* file, sqlite3_int64 size) {
    File* f = F(file);
    FaultVfs& v = *f->vfs;
    std::lock_guard<std::mutex> lock(v.mu_);
    if (f->Dead() || !v.CountOpLocked()) return SQLITE_IOERR_TRUNCATE;
    FaultVfs::Tracked* t = f->Track();
    FaultVfs::Op op;
    if (t) {
      sqlite3_int64 old = 0;
      f->real->pMethods->xFileSize(f->real, &old);
      op = {std::min(size, old), old, Before(f, size, std::max<int64_t>(0, old - size), old), 0};
    }
    int rc = f->real->pMethods->xTruncate(f->real, size);
    if (rc == SQLITE_OK && t) t->unsynced.push_back(std::move(op));
    return rc;
  }

  static int Sync(sqlite3_file* file, int flags) {
    File* f = F(file);
    FaultVfs& v = *f->vfs;
    std::lock_guard<std::mutex> lock(v.mu_);
    if (f->Dead() || !v.CountOpLocked() || v.sync_error_) return SQLITE_IOERR_FSYNC;
    if (v.sync_delay_.count() > 0) std::this_thread::sleep_for(v.sync_delay_);
    int rc = v.real_syncs_ ? f->real->pMethods->xSync(f->real, flags) : SQLITE_OK;
    if (rc != SQLITE_OK) return rc;
    if (FaultVfs::Tracked* t = f->Track()) t->unsynced.clear();
    return SQLITE_OK;
  }

  static int FileSize(sqlite3_file* file, sqlite3_int64* size) {
    File* f = F(file);
    std::lock_guard<std::mutex> lock(f->vfs->mu_);
    return f->real->pMethods->xFileSize(f->real, size);
  }
  // Locks, file controls and shared memory pass through (they are not durable state).
  static bool LockError(File* f) {
    std::lock_guard<std::mutex> lock(f->vfs->mu_);
    return f->vfs->lock_error_;
  }
  static int Lock(sqlite3_file* f, int l) {
    if (LockError(F(f))) return SQLITE_IOERR_LOCK;
    return F(f)->real->pMethods->xLock(F(f)->real, l);
  }
  static int Unlock(sqlite3_file* f, int l) { return F(f)->real->pMethods->xUnlock(F(f)->real, l); }
  static int CheckReserved(sqlite3_file* f, int* out) {
    return F(f)->real->pMethods->xCheckReservedLock(F(f)->real, out);
  }
  static int FileControl(sqlite3_file* file, int op, void* arg) {
    File* f = F(file);
    {
      std::lock_guard<std::mutex> lock(f->vfs->mu_);
      if (f->Dead()) return SQLITE_NOTFOUND;
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
  }
  static int SectorSize(sqlite3_file* f) { return F(f)->real->pMethods->xSectorSize(F(f)->real); }
  static int DeviceCharacteristics(sqlite3_file* f) {
    return F(f)->real->pMethods->xDeviceCharacteristics(F(f)->real);
  }
  static int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** pp) {
    return F(f)->real->pMethods->xShmMap(F(f)->real, page, size, extend, pp);
  }
  static int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
    if ((flags & SQLITE_SHM_LOCK) && LockError(F(f))) return SQLITE_IOERR_SHMLOCK;
    return F(f)->real->pMethods->xShmLock(F(f)->real, offset, n, flags);
  }
  static void ShmBarrier(sqlite3_file* f) { F(f)->real->pMethods->xShmBarrier(F(f)->real); }
  static int ShmUnmap(sqlite3_file* file, int delete_flag) {
    File* f = F(file);
    bool dead;
    {
      std::lock_guard<std::mutex> lock(f->vfs->mu_);
      dead = f->Dead();
    }
    return f->real->pMethods->xShmUnmap(f->real, dead ? 0 : delete_flag);
  }
  // Never maps: every read goes through xRead.
  static int Fetch(sqlite3_file*, sqlite3_int64, int, void** pp) {
    *pp = nullptr;
    return SQLITE_OK;
  }
  static int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

  static constexpr sqlite3_io_methods kMethods = {3,
                                                  Close,
                                                  Read,
                                                  Write,
                                                  Truncate,
                                                  Sync,
                                                  FileSize,
                                                  Lock,
                                                  Unlock,
                                                  CheckReserved,
                                                  FileControl,
                                                  SectorSize,
                                                  DeviceCharacteristics,
                                                  ShmMap,
                                                  ShmLock,
                                                  ShmBarrier,
                                                  ShmUnmap,
                                                  Fetch,
                                                  Unfetch};

  static int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out) {
    FaultVfs& v = *V(vfs);
    std::lock_guard<std::mutex> lock(v.mu_);
    file->pMethods = nullptr;
    if (v.off_) return SQLITE_CANTOPEN;
    File* f = new (file) File();
    f->vfs = &v;
    f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + File::RealOffset());
    f->real->pMethods = nullptr;
    f->generation = v.generation_;
    f->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    int rc = v.real_->xOpen(v.real_, name, f->real, flags, out);
    if (rc != SQLITE_OK) {
      if (f->real->pMethods) f->real->pMethods->xClose(f->real);
      f->~File();
      file->pMethods = nullptr;
      return rc;
    }
    if (name && !(flags & SQLITE_OPEN_DELETEONCLOSE)) {
      f->path = name;
      f->inode = InodeOf(f->path);
      FaultVfs::Tracked& t = v.files_[f->path];
      if (t.inode != f->inode) t = {f->inode, {}};  // a new file under an old name
    }
    v.open_.insert(f);
    file->pMethods = &kMethods;
    return SQLITE_OK;
  }

  static int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    FaultVfs& v = *V(vfs);
    std::lock_guard<std::mutex> lock(v.mu_);
    if (v.off_ || !v.CountOpLocked()) return SQLITE_IOERR_DELETE;
    v.files_.erase(name);
    return v.real_->xDelete(v.real_, name, sync_dir);
  }
  static sqlite3_vfs* R(sqlite3_vfs* v) { return V(v)->real_; }
  static int Access(sqlite3_vfs* v, const char* n, int flags, int* out) {
    return R(v)->xAccess(R(v), n, flags, out);
  }
  static int FullPathname(sqlite3_vfs* v, const char* n, int size, char* out) {
    return R(v)->xFullPathname(R(v), n, size, out);
  }
  static void* DlOpen(sqlite3_vfs* v, const char* n) { return R(v)->xDlOpen(R(v), n); }
  static void DlError(sqlite3_vfs* v, int n, char* out) { R(v)->xDlError(R(v), n, out); }
  static void (*DlSym(sqlite3_vfs* v, void* h, const char* s))(void) {
    return R(v)->xDlSym(R(v), h, s);
  }
  static void DlClose(sqlite3_vfs* v, void* h) { R(v)->xDlClose(R(v), h); }
  static int Randomness(sqlite3_vfs* v, int n, char* out) {
    return R(v)->xRandomness(R(v), n, out);
  }
  static int Sleep(sqlite3_vfs* v, int us) { return R(v)->xSleep(R(v), us); }
  static int CurrentTime(sqlite3_vfs* v, double* out) { return R(v)->xCurrentTime(R(v), out); }
  static int GetLastError(sqlite3_vfs* v, int n, char* out) {
    return R(v)->xGetLastError(R(v), n, out);
  }
  static int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) {
    return R(v)->xCurrentTimeInt64(R(v), out);
  }
};

FaultVfs::FaultVfs(std::string name) : name_(std::move(name)) {
  real_ = sqlite3_vfs_find(nullptr);
  vfs_.iVersion = 2;
  vfs_.szOsFile = static_cast<int>(File::RealOffset()) + real_->szOsFile;
  vfs_.mxPathname = real_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = Callbacks::Open;
  vfs_.xDelete = Callbacks::Delete;
  vfs_.xAccess = Callbacks::Access;
  vfs_.xFullPathname = Callbacks::FullPathname;
  vfs_.xDlOpen = Callbacks::DlOpen;
  vfs_.xDlError = Callbacks::DlError;
  vfs_.xDlSym = Callbacks::DlSym;
  vfs_.xDlClose = Callbacks::DlClose;
  vfs_.xRandomness = Callbacks::Randomness;
  vfs_.xSleep = Callbacks::Sleep;
  vfs_.xCurrentTime = Callbacks::CurrentTime;
  vfs_.xGetLastError = Callbacks::GetLastError;
  vfs_.xCurrentTimeInt64 = Callbacks::CurrentTimeInt64;
  sqlite3_vfs_register(&vfs_, 0);
}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(&vfs_); }

void FaultVfs::SetRealSyncs(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  real_syncs_ = on;
}
void FaultVfs::SetSyncError(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_error_ = fail;
}
void FaultVfs::SetSyncDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_delay_ = delay;
}
void FaultVfs::SetWriteError(WriteError error, uint64_t after) {
  std::lock_guard<std::mutex> lock(mu_);
  write_error_ = error;
  writes_before_error_ = after;
}
void FaultVfs::SetReadCorruption(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  corrupt_inode_ = path.empty() ? 0 : InodeOf(path);
}

void FaultVfs::SetReadFault(const std::string& path, ReadFault fault, int64_t begin, int64_t end) {
  std::lock_guard<std::mutex> lock(mu_);
  fault_inode_ = path.empty() ? 0 : InodeOf(path);
  fault_ = fault;
  fault_begin_ = begin;
  fault_end_ = end;
}

void FaultVfs::SetLockError(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  lock_error_ = fail;
}

void FaultVfs::CutPower(CutMode mode, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  cut_mode_ = mode;
  rng_.seed(seed);
  CutLocked();
}

void FaultVfs::CutPowerAfter(uint64_t ops, CutMode mode, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  cut_at_op_ = ops == 0 ? 0 : ops_ + ops;
  cut_mode_ = mode;
  rng_.seed(seed);
}

void FaultVfs::CutLocked() {
  off_ = true;
  ++generation_;
  cut_at_op_ = 0;
}

bool FaultVfs::CountOpLocked() {
  ++ops_;
  if (cut_at_op_ != 0 && ops_ >= cut_at_op_) CutLocked();
  return !off_;
}

bool FaultVfs::power_cut() const {
  std::lock_guard<std::mutex> lock(mu_);
  return off_;
}

uint64_t FaultVfs::ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

bool FaultVfs::last_cut_tore() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_tore_;
}

uint64_t FaultVfs::last_cut_dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_dropped_;
}

bool FaultVfs::PowerOn() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!off_) return true;
  for (const File* f : open_) {
    if (f->generation < generation_) return false;
  }
  last_tore_ = false;
  last_dropped_ = 0;
  for (auto& [path, t] : files_) ReduceLocked(path, t);
  off_ = false;
  return true;
}

// Undoes the unsynced operations of one file that did not survive (see the header).
void FaultVfs::ReduceLocked(const std::string& path, Tracked& t) {
  std::vector<Op> ops = std::move(t.unsynced);
  t.unsynced.clear();
  if (ops.empty()) return;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_ino) != t.inode) {
    ::close(fd);  // renamed away (quarantined) and replaced: not ours to reduce
    return;
  }
  size_t n = ops.size();
  size_t keep = cut_mode_ == CutMode::kDropUnsynced ? 0 : static_cast<size_t>(rng_() % (n + 1));
  // Restores the bytes at and after `from` and sets the size the file then has.
  auto undo = [fd](const Op& op, int64_t from, int64_t size) {
    int64_t skip = from - op.offset;
    if (skip < static_cast<int64_t>(op.before.size())) {
      WriteAt(fd, op.before.data() + skip, op.before.size() - static_cast<size_t>(skip), from);
    }
    if (::ftruncate(fd, size) != 0) return;
  };
  for (size_t i = n; i-- > keep + 1;) undo(ops[i], ops[i].offset, ops[i].old_size);
  if (keep < n) {
    const Op& op = ops[keep];
    // Sector boundaries strictly inside the write; a tear keeps the sectors before one of them.
    int64_t first = (op.offset / kSector + 1) * kSector;
    int64_t choices = op.length > 0 && first < op.offset + op.length
                          ? (op.offset + op.length - 1 - first) / kSector + 1
                          : 0;
    int64_t pick = cut_mode_ == CutMode::kKeepRandomPrefix && choices > 0
                       ? static_cast<int64_t>(rng_() % static_cast<uint64_t>(choices + 1))
                       : 0;
    if (pick > 0) {
      int64_t cut = first + (pick - 1) * kSector;
      undo(op, cut, std::max(op.old_size, cut));
      last_tore_ = true;
    } else {
      undo(op, op.offset, op.old_size);
    }
  }
  last_dropped_ += n - keep;
  ::close(fd);
}

}  // namespace ferry::testing

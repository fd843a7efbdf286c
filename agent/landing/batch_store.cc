#include "agent/landing/batch_store.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "platform/clock.h"
#include "platform/file.h"

namespace ferry::landing {
namespace {

using platform::Result;
using platform::Status;

constexpr std::string_view kSuffix = ".ndjson.zst";

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(msg);
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IoError(msg);
}

// Creates one directory; OK if it exists already.
Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return Status::Ok();
  return ErrnoStatus("create directory", path, errno);
}

// Names of the entries of `dir` that start with "dt=", without the prefix. NotFound if `dir`
// does not exist.
Result<std::vector<std::string>> ListDates(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("open directory", dir, errno);
  std::vector<std::string> dates;
  errno = 0;
  while (dirent* e = readdir(d)) {
    if (strncmp(e->d_name, "dt=", 3) == 0) dates.emplace_back(e->d_name + 3);
  }
  int err = errno;
  closedir(d);
  if (err != 0) return ErrnoStatus("read directory", dir, err);
  return dates;
}

}  // namespace

BatchStore::BatchStore(std::string root, WriteFn write)
    : root_(std::move(root)), write_(std::move(write)) {}

Result<std::unique_ptr<BatchStore>> BatchStore::Open(const std::string& root, WriteFn write) {
  if (root.empty()) return Status::InvalidArgument("the root directory must not be empty");
  FERRY_RETURN_IF_ERROR(platform::MakeDirs(root));
  std::string probe = root + "/.ferry-landing-probe-" + std::to_string(getpid());
  Status st = platform::WriteFileAtomic(probe, "probe\n");
  if (!st.ok()) return st.WithContext("root " + root + " is not writable");
  FERRY_RETURN_IF_ERROR(platform::RemoveFile(probe));
  if (!write) write = platform::WriteFileAtomic;
  std::string trimmed = root;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  return std::unique_ptr<BatchStore>(new BatchStore(trimmed, std::move(write)));
}

std::string BatchStore::FormatDate(int64_t unix_ms) {
  int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  platform::CivilTime c = platform::ToUtcCivil(secs);
  char buf[32];
  snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

std::string BatchStore::GatewayDir(const std::string& gateway) const {
  return root_ + "/gateway=" + gateway;
}

std::string BatchStore::PathFor(const BatchKey& key, std::string_view date) const {
  return GatewayDir(key.gateway) + "/dt=" + std::string(date) + "/" + key.text +
         std::string(kSuffix);
}

Result<std::vector<std::string>> BatchStore::Dates(const std::string& gateway) {
  std::lock_guard<std::mutex> lock(mu_);
  GatewayDirs& dirs = gateway_dirs_[gateway];
  if (!dirs.loaded) {
    // Read once per gateway and process; held under mu_, which only delays the first request.
    auto listed = ListDates(GatewayDir(gateway));
    if (!listed.ok() && listed.status().code() != platform::Code::kNotFound) {
      return listed.status();
    }
    if (listed.ok()) dirs.dts.insert(listed->begin(), listed->end());
    dirs.loaded = true;
  }
  // Newest first: a retry most likely lands beside its first attempt.
  return std::vector<std::string>(dirs.dts.rbegin(), dirs.dts.rend());
}

Result<bool> BatchStore::IsStored(const BatchKey& key) {
  auto dates = Dates(key.gateway);
  if (!dates.ok()) return dates.status();
  std::string prefix = GatewayDir(key.gateway) + "/dt=";
  std::string name = "/" + key.text + std::string(kSuffix);
  for (const std::string& date : *dates) {
    std::string path = prefix + date + name;
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) return true;
    if (errno != ENOENT && errno != ENOTDIR) return ErrnoStatus("stat", path, errno);
  }
  return false;
}

Status BatchStore::EnsureDirs(const std::string& gateway, const std::string& date) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const GatewayDirs& dirs = gateway_dirs_[gateway];
    if (dirs.dir_exists && dirs.dts.count(date) != 0) return Status::Ok();
  }
  std::lock_guard<std::mutex> create_lock(dirs_mu_);
  // The parent is flushed even when the directory existed already: an earlier attempt may have
  // created it and failed before its flush.
  std::string gateway_dir = GatewayDir(gateway);
  FERRY_RETURN_IF_ERROR(MakeDir(gateway_dir));
  FERRY_RETURN_IF_ERROR(platform::SyncDir(root_));
  std::string date_dir = gateway_dir + "/dt=" + date;
  FERRY_RETURN_IF_ERROR(MakeDir(date_dir));
  FERRY_RETURN_IF_ERROR(platform::SyncDir(gateway_dir));
  std::lock_guard<std::mutex> lock(mu_);
  GatewayDirs& dirs = gateway_dirs_[gateway];
  dirs.dir_exists = true;
  dirs.dts.insert(date);
  return Status::Ok();
}

Result<BatchStore::Outcome> BatchStore::Put(const BatchKey& key, std::string_view date_view,
                                            std::string_view data, uint64_t /*records*/,
                                            std::string* stored_path) {
  KeyLocks::Hold key_lock(key_locks_, key.text);
  auto stored = IsStored(key);
  if (!stored.ok()) return stored.status();
  if (*stored) return Outcome::kDuplicate;

  std::string date(date_view);
  std::string path = PathFor(key, date);
  Status st = EnsureDirs(key.gateway, date);
  if (st.ok()) st = write_(path, data);
  if (st.code() == platform::Code::kNotFound) {
    // A directory was removed behind our back (an operator cleaning old partitions): forget
    // what we knew of this gateway's directories and try once more.
    {
      std::lock_guard<std::mutex> lock(mu_);
      gateway_dirs_[key.gateway].dir_exists = false;
      gateway_dirs_[key.gateway].dts.erase(date);
    }
    st = EnsureDirs(key.gateway, date);
    if (st.ok()) st = write_(path, data);
  }
  if (!st.ok()) return st;
  if (stored_path != nullptr) *stored_path = std::move(path);
  return Outcome::kStored;
}

}  // namespace ferry::landing

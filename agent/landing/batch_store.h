// The landing zone on disk (the directory store of ferry-landing --root):
//   <root>/gateway=<gateway>/dt=<YYYY-MM-DD>/<Idempotency-Key>.ndjson.zst
// where the date is the caller's: the UTC date of the batch's first record's received_at.
// Each file is written whole or not at all (temporary file, fsync, rename, directory fsync), and
// a key is stored at most once: before writing, every dt= directory of the gateway is checked,
// since a retry may arrive days after the first attempt.
//
// The files on disk are the only record of what is stored, so a partition removed by an operator
// is accepted again. One process per root: the list of dt= directories of each gateway is read
// once and then kept in memory, so directories another process creates are not seen.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/landing/batch_key.h"
#include "agent/landing/key_lock.h"
#include "agent/landing/store.h"
#include "platform/status.h"

namespace ferry::landing {

class BatchStore : public Store {
 public:
  // Writes a file durably; platform::WriteFileAtomic unless a test injects a fault.
  using WriteFn = std::function<platform::Status(const std::string& path, std::string_view data)>;

  // Creates `root` if needed and checks that a file can be written in it. kIoError (or
  // kNoSpace) naming the path if not.
  static platform::Result<std::unique_ptr<BatchStore>> Open(const std::string& root,
                                                            WriteFn write = nullptr);

  // Store::Put: a file for `key` in any dt= directory of its gateway is a duplicate (a retry may
  // come days later). Calls for the same key are serialized. Thread-safe.
  // Errors: kNoSpace when the disk or quota is full; kIoError for any other failure to create,
  // inspect, write or flush a file or directory.
  platform::Result<Outcome> Put(const BatchKey& key, std::string_view date, std::string_view data,
                                uint64_t records, std::string* stored_path) override;
  std::string Describe() const override { return "root " + root_; }

  // Where batch `key` of partition `date` is stored.
  std::string PathFor(const BatchKey& key, std::string_view date) const;

  // "2026-11-21": the UTC date of `unix_ms`.
  static std::string FormatDate(int64_t unix_ms);

 private:
  BatchStore(std::string root, WriteFn write);

  struct GatewayDirs {
    bool loaded = false;        // the dt= directories below were read from disk
    bool dir_exists = false;    // gateway=<gw> exists
    std::set<std::string> dts;  // "2026-11-21", ...
  };

  std::string GatewayDir(const std::string& gateway) const;
  // The dt= names of `gateway`, newest first; reads the directory on first use.
  platform::Result<std::vector<std::string>> Dates(const std::string& gateway);
  platform::Result<bool> IsStored(const BatchKey& key);
  // Creates gateway=<gw> and dt=<date> if missing, flushing the parent of each new directory.
  platform::Status EnsureDirs(const std::string& gateway, const std::string& date);

  const std::string root_;
  const WriteFn write_;

  KeyLocks key_locks_;
  std::mutex mu_;
  std::map<std::string, GatewayDirs> gateway_dirs_;  // guarded by mu_
  std::mutex dirs_mu_;                               // serializes directory creation
};

}  // namespace ferry::landing

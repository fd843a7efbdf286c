// Serializes work on one batch key inside a process: while a KeyLock for a key lives, another
// KeyLock for the same key waits. Different keys do not wait for each other. Thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

namespace ferry::landing {

class KeyLocks {
 public:
  class Hold {
   public:
    Hold(KeyLocks& locks, std::string key) : locks_(locks), key_(std::move(key)) {
      std::unique_lock<std::mutex> lock(locks_.mu_);
      locks_.released_.wait(lock, [&] { return locks_.held_.count(key_) == 0; });
      locks_.held_.insert(key_);
    }
    ~Hold() {
      {
        std::lock_guard<std::mutex> lock(locks_.mu_);
        locks_.held_.erase(key_);
      }
      locks_.released_.notify_all();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    KeyLocks& locks_;
    const std::string key_;
  };

 private:
  std::mutex mu_;
  std::condition_variable released_;
  std::set<std::string> held_;  // guarded by mu_
};

}  // namespace ferry::landing

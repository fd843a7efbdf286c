// The transforms of one config: a runner per transform (started on first use), found by the
// route that names it. Lives as long as the pipeline; its destructor kills the processes.
// Thread-safe: runners serialize their own batches.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/transform/runner.h"
#include "platform/clock.h"

namespace ferry::agent {

struct TransformInfo {
  const TransformConfig* config = nullptr;
  std::string pin;  // sha256 pinned, else of the file as it was at start ("" if unreadable)
  TransformStats stats;
};

class TransformSet {
 public:
  // Private directories go under `state_dir`/transforms/<name> (the queue's directory).
  TransformSet(const Config& config, const std::string& state_dir, platform::Clock& clock);

  // The runner of route `route` (Normalized::route), or null when it names no transform.
  TransformRunner* ForRoute(int route) const;
  // The code hash records made by `runner` carry.
  const std::string& PinOf(const TransformRunner* runner) const;
  bool empty() const { return runners_.empty(); }
  // Starts every transform's process (a failure shows in its stats and is retried on use).
  void StartAll() const;
  platform::Clock& clock() const { return clock_; }
  std::vector<TransformInfo> Info() const;

 private:
  struct Entry {
    std::unique_ptr<TransformRunner> runner;
    std::string pin;
  };
  std::map<std::string, Entry> runners_;
  std::vector<TransformRunner*> by_route_;
  platform::Clock& clock_;
};

// The directory of the queue file `storage_path`.
std::string StateDirOf(const std::string& storage_path);

}  // namespace ferry::agent

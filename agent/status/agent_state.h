// What the agent is doing now, for /status, /readyz and `ferry status`: written by the loops,
// read by the status server. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ferry::agent {

class TransformSet;
struct TransformInfo;

class AgentState {
 public:
  enum class Loop { kIntake = 0, kForwarder = 1 };

  // Each loop calls Beat() every iteration; a loop silent for too long is not alive.
  void Beat(Loop loop, int64_t mono_ms) { beats_[static_cast<int>(loop)] = mono_ms; }
  int64_t LastBeat(Loop loop) const { return beats_[static_cast<int>(loop)]; }

  void SetIntake(std::string state);  // "connected", "connecting", "paused: <why>"
  std::string Intake() const;
  // "ok", "idle", "backoff", "unreachable", "auth_failed", "sending", "storage_error"; next
  // attempt in wall ms (0 = none).
  void SetUpstream(std::string state, int64_t next_attempt_wall_ms = 0);
  std::string Upstream() const;
  int64_t NextAttemptWallMs() const;
  // While the forwarder cannot read the queue at all: the error and the wall time of its next
  // try; "" once it can. QueueProblem() is then /readyz's reason: "queue unreadable: <error>;
  // delivery paused, retrying in N s" ("" when the queue reads).
  void SetQueueUnreadable(std::string error, int64_t retry_wall_ms);
  std::string QueueProblem(int64_t now_wall_ms) const;
  void SetBreaker(std::string state, uint32_t consecutive_failures);
  std::string Breaker() const;
  uint32_t ConsecutiveFailures() const;
  // The outcome of the last config (re)load: "ok" or why the file was not applied.
  void SetReload(std::string outcome, int64_t wall_ms);
  std::string Reload() const;
  int64_t ReloadWallMs() const;
  void SetLastError(std::string error, int64_t wall_ms);
  std::string LastError() const;
  int64_t LastErrorWallMs() const;
  // The last kRecentErrors errors set, oldest first, with their wall ms: for the status page.
  static constexpr size_t kRecentErrors = 10;
  std::vector<std::pair<int64_t, std::string>> RecentErrors() const;

  // The running pipeline's transforms (null: none); kept alive while set.
  void SetTransforms(std::shared_ptr<const TransformSet> transforms);
  std::vector<TransformInfo> Transforms() const;

 private:
  std::atomic<int64_t> beats_[2] = {0, 0};
  std::shared_ptr<const TransformSet> transforms_;
  mutable std::mutex mu_;
  std::string intake_ = "starting";
  std::string upstream_ = "idle";
  int64_t next_attempt_ms_ = 0;
  std::string queue_error_;
  int64_t queue_retry_ms_ = 0;
  std::string breaker_ = "closed";
  std::string reload_ = "ok";
  int64_t reload_ms_ = 0;
  uint32_t failures_ = 0;
  std::string last_error_;
  int64_t last_error_ms_ = 0;
  std::deque<std::pair<int64_t, std::string>> recent_errors_;
};

}  // namespace ferry::agent

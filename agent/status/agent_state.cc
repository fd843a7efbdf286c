#include "agent/status/agent_state.h"

#include <algorithm>

#include "agent/transform/transform_set.h"

namespace ferry::agent {

void AgentState::SetTransforms(std::shared_ptr<const TransformSet> transforms) {
  std::lock_guard<std::mutex> lock(mu_);
  transforms_ = std::move(transforms);
}

std::vector<TransformInfo> AgentState::Transforms() const {
  std::shared_ptr<const TransformSet> transforms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    transforms = transforms_;
  }
  return transforms ? transforms->Info() : std::vector<TransformInfo>();
}

void AgentState::SetIntake(std::string state) {
  std::lock_guard<std::mutex> lock(mu_);
  intake_ = std::move(state);
}

std::string AgentState::Intake() const {
  std::lock_guard<std::mutex> lock(mu_);
  return intake_;
}

void AgentState::SetUpstream(std::string state, int64_t next_attempt_wall_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  upstream_ = std::move(state);
  next_attempt_ms_ = next_attempt_wall_ms;
}

void AgentState::SetQueueUnreadable(std::string error, int64_t retry_wall_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_error_ = std::move(error);
  queue_retry_ms_ = retry_wall_ms;
}

std::string AgentState::QueueProblem(int64_t now_wall_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_error_.empty()) return "";
  int64_t seconds = std::max<int64_t>(0, (queue_retry_ms_ - now_wall_ms + 999) / 1000);
  return "queue unreadable: " + queue_error_ + "; delivery paused, retrying in " +
         std::to_string(seconds) + " s";
}

std::string AgentState::Upstream() const {
  std::lock_guard<std::mutex> lock(mu_);
  return upstream_;
}

int64_t AgentState::NextAttemptWallMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_attempt_ms_;
}

void AgentState::SetBreaker(std::string state, uint32_t consecutive_failures) {
  std::lock_guard<std::mutex> lock(mu_);
  breaker_ = std::move(state);
  failures_ = consecutive_failures;
}

std::string AgentState::Breaker() const {
  std::lock_guard<std::mutex> lock(mu_);
  return breaker_;
}

uint32_t AgentState::ConsecutiveFailures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

void AgentState::SetReload(std::string outcome, int64_t wall_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  reload_ = std::move(outcome);
  reload_ms_ = wall_ms;
}

std::string AgentState::Reload() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reload_;
}

int64_t AgentState::ReloadWallMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reload_ms_;
}

void AgentState::SetLastError(std::string error, int64_t wall_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error.empty()) {
    if (recent_errors_.size() == kRecentErrors) recent_errors_.pop_front();
    recent_errors_.emplace_back(wall_ms, error);
  }
  last_error_ = std::move(error);
  last_error_ms_ = wall_ms;
}

std::vector<std::pair<int64_t, std::string>> AgentState::RecentErrors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {recent_errors_.begin(), recent_errors_.end()};
}

std::string AgentState::LastError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

int64_t AgentState::LastErrorWallMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_ms_;
}

}  // namespace ferry::agent

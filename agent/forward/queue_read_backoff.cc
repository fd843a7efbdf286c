#include "agent/forward/queue_read_backoff.h"

#include <algorithm>

namespace ferry::agent {

int64_t QueueReadBackoff::OnFailure(const std::string& error, int64_t now, bool* log) {
  *log = failures_ == 0 || error != logged_ || now - logged_ms_ >= kRelogMs;
  if (*log) {
    logged_ = error;
    logged_ms_ = now;
  }
  int64_t delay = kFirstDelayMs;
  for (uint32_t i = 0; i < failures_ && delay < kMaxDelayMs; ++i) delay *= 2;
  ++failures_;
  return std::min(delay, kMaxDelayMs);
}

bool QueueReadBackoff::OnSuccess() {
  bool was = failures_ > 0;
  failures_ = 0;
  logged_.clear();
  return was;
}

}  // namespace ferry::agent

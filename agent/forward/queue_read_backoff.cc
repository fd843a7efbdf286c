#include "agent/forward/queue_read_backoff.h"

#include "agent/forward/backoff.h"

namespace ferry::agent {

int64_t QueueReadBackoff::OnFailure(const std::string& error, int64_t now, bool* log) {
  *log = log_.Allow(error, now);
  // Not jittered: one gateway's own disk, no crowd of clients to spread out.
  return BackoffCeilingMs({kFirstDelayMs, kMaxDelayMs}, failures_++);
}

bool QueueReadBackoff::OnSuccess() {
  bool was = failures_ > 0;
  failures_ = 0;
  log_.Clear();
  return was;
}

}  // namespace ferry::agent

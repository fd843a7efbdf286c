// How the forwarder waits out a queue it cannot read at all (issue 10, finding 4): the batches
// or the blocks' rows cannot be listed, a lock is refused, or a block it gave up on cannot be
// moved to the dead letters. Nothing ties such an error to one block, so nothing is set aside;
// the forwarder tries again after a delay that starts at 1 s and doubles up to 60 s, rather
// than every second for ever, and logs an error the first time, when it changes, and again
// every 5 minutes while it lasts. A read that succeeds ends it.
//
// Pure state over times passed in (monotonic ms); not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "platform/log.h"

namespace ferry::agent {

class QueueReadBackoff {
 public:
  static constexpr int64_t kFirstDelayMs = 1'000;
  static constexpr int64_t kMaxDelayMs = 60'000;
  static constexpr int64_t kRelogMs = 5 * 60'000;

  // One more failure with `error` at `now`: returns the wait before the next try (1 s, 2 s,
  // 4 s, ... at most kMaxDelayMs). `*log` says whether to log it: the first failure, an error
  // other than the last one logged, or kRelogMs since it was logged.
  int64_t OnFailure(const std::string& error, int64_t now, bool* log);
  // The queue was read: true when it had been failing (the caller says it recovered).
  bool OnSuccess();
  bool failing() const { return failures_ > 0; }
  uint32_t failures() const { return failures_; }

 private:
  uint32_t failures_ = 0;
  platform::LogThrottle log_{kRelogMs};
};

}  // namespace ferry::agent

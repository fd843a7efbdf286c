#include "agent/forward/backoff.h"

#include <algorithm>

namespace ferry::agent {

int64_t BackoffCeilingMs(const BackoffPolicy& policy, uint32_t attempt) {
  int64_t ceiling = std::max<int64_t>(1, policy.initial_ms);
  for (uint32_t i = 0; i < attempt && ceiling < policy.max_ms; ++i) ceiling *= 2;
  return std::min(ceiling, policy.max_ms);
}

int64_t BackoffDelayMs(const BackoffPolicy& policy, uint32_t attempt, platform::Random& random) {
  int64_t ceiling = BackoffCeilingMs(policy, attempt);
  return static_cast<int64_t>(random.Below(static_cast<uint64_t>(ceiling) + 1));
}

}  // namespace ferry::agent

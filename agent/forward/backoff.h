// Retry delays: capped exponential backoff with full jitter. A pure function of the attempt
// number and the random source, so its table can be checked in tests and printed in the docs:
//
//   attempt  ceiling (initial 1s, max 60s)   delay
//   0        1s                               uniform in [0, 1s]
//   1        2s                               uniform in [0, 2s]
//   2        4s                               uniform in [0, 4s]
//   ...      initial * 2^attempt              ...
//   6+       60s (the cap)                    uniform in [0, 60s]
#pragma once

#include <cstdint>

#include "platform/random.h"

namespace ferry::agent {

struct BackoffPolicy {
  int64_t initial_ms = 1'000;
  int64_t max_ms = 60'000;
};

// The ceiling for `attempt` (0 for the first retry): min(max, initial * 2^attempt).
int64_t BackoffCeilingMs(const BackoffPolicy& policy, uint32_t attempt);

// A delay uniform in [0, ceiling] drawn from `random` ("full jitter").
int64_t BackoffDelayMs(const BackoffPolicy& policy, uint32_t attempt, platform::Random& random);

}  // namespace ferry::agent

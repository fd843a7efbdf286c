#include "agent/forward/backoff.h"

#include <doctest/doctest.h>

using ferry::agent::BackoffCeilingMs;
using ferry::agent::BackoffDelayMs;
using ferry::agent::BackoffPolicy;

TEST_CASE(
    "the backoff ceiling doubles from the initial delay up to the cap (the documented table)") {
  BackoffPolicy p{1'000, 60'000};
  const int64_t table[] = {1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 60'000, 60'000};
  for (uint32_t attempt = 0; attempt < 8; ++attempt) {
    CAPTURE(attempt);
    CHECK(BackoffCeilingMs(p, attempt) == table[attempt]);
  }
  CHECK(BackoffCeilingMs(p, 1'000'000) == 60'000);  // no overflow for huge attempt counts
}

TEST_CASE("full jitter spans zero to the ceiling") {
  BackoffPolicy p{1'000, 60'000};
  ferry::platform::FixedRandom zero(0);
  CHECK(BackoffDelayMs(p, 3, zero) == 0);
  ferry::platform::FixedRandom top(8'000);  // 8000 % 8001 = 8000: the ceiling itself
  CHECK(BackoffDelayMs(p, 3, top) == 8'000);
  ferry::platform::OsRandom random;
  for (int i = 0; i < 1000; ++i) {
    int64_t d = BackoffDelayMs(p, 2, random);
    CHECK(d >= 0);
    CHECK(d <= 4'000);
  }
}

TEST_CASE("a policy whose initial delay exceeds its cap never waits longer than the cap") {
  BackoffPolicy p{10'000, 5'000};
  CHECK(BackoffCeilingMs(p, 0) == 5'000);
}

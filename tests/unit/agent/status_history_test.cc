// The status page's sample ring (agent/status/history.h).
#include "agent/status/history.h"

#include <doctest/doctest.h>

using namespace ferry::agent;

TEST_CASE("the history keeps the newest samples, oldest first, as columns") {
  History h;
  CHECK(h.Json()["t"].empty());
  for (size_t i = 0; i < History::kCapacity + 5; ++i) {
    Sample s;
    s.wall_ms = static_cast<int64_t>(i);
    s.received = i * 10;
    h.Add(s);
  }
  auto samples = h.Samples();
  REQUIRE(samples.size() == History::kCapacity);
  CHECK(samples.front().wall_ms == 5);
  CHECK(samples.back().wall_ms == static_cast<int64_t>(History::kCapacity + 4));
  auto j = h.Json();
  CHECK(j["interval_seconds"] == 5);
  CHECK(j["t"].size() == History::kCapacity);
  CHECK(j["received"].size() == History::kCapacity);
  CHECK(j["received"][0] == 50);
  // An hour of samples.
  CHECK(History::kCapacity * History::kSampleIntervalMs == 3'600'000);
}

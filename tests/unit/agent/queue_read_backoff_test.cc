// The forwarder's wait while the queue cannot be read (agent/forward/queue_read_backoff.h).
#include "agent/forward/queue_read_backoff.h"

#include <doctest/doctest.h>

#include <vector>

using ferry::agent::QueueReadBackoff;

TEST_CASE("queue read backoff: 1 s doubling to 60 s, from 1 s again after a success") {
  QueueReadBackoff b;
  bool log = false;
  std::vector<int64_t> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(b.OnFailure("e", 0, &log));
  CHECK(delays ==
        std::vector<int64_t>{1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 60'000, 60'000, 60'000});
  CHECK(b.failing());
  CHECK(b.OnSuccess());
  CHECK(!b.OnSuccess());
  CHECK(b.OnFailure("e", 0, &log) == 1'000);
}

TEST_CASE("queue read backoff: logged once per distinct error, again every 5 minutes") {
  QueueReadBackoff b;
  bool log = false;
  b.OnFailure("disk I/O error", 0, &log);
  CHECK(log);
  b.OnFailure("disk I/O error", 60'000, &log);
  CHECK(!log);
  b.OnFailure("database disk image is malformed", 120'000, &log);
  CHECK(log);
  b.OnFailure("database disk image is malformed", 120'000 + QueueReadBackoff::kRelogMs - 1, &log);
  CHECK(!log);
  b.OnFailure("database disk image is malformed", 120'000 + QueueReadBackoff::kRelogMs, &log);
  CHECK(log);
  b.OnSuccess();
  b.OnFailure("database disk image is malformed", 120'000 + QueueReadBackoff::kRelogMs, &log);
  CHECK(log);  // a new spell is logged at once
}

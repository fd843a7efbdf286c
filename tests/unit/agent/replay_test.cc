// Replaying dead letters (agent/intake/replay.h).
#include "agent/intake/replay.h"

#include <doctest/doctest.h>

#include "support/temp_dir.h"
#include "support/test_queue.h"

using namespace ferry;

// Finding 3 of issue 10: a replayed dead letter's block had no monotonic receive time (0), so
// with storage.max_age set its age was the machine's uptime and it expired at once.
TEST_CASE("regression issue 10 #3: a replayed dead letter does not expire at once under max_age") {
  testing::TempDir dir;
  // A gateway up for 30 days: the monotonic clock is far from 0.
  platform::FakeClock clock(1'763'720'100'000, int64_t{30} * 86'400'000 * 1'000'000);
  auto queue = testing::OpenTestQueue(dir.File("q.db"), clock);
  storage::Queue& q = *queue;
  storage::DeadLetterInput dead{"invalid JSON", "sensors/a", "{\"t\":21.5}", clock.WallMillis()};
  storage::AppendRequest req;
  req.dead_letters = std::span<const storage::DeadLetterInput>(&dead, 1);
  REQUIRE(q.Append(req).ok());
  REQUIRE(q.Stats().dead_letters == 1);

  agent::Config config;
  config.gateway.id = "gw-test";
  agent::Normalizer normalizer(config.routes);
  agent::Metrics metrics;
  auto replayed = agent::ReplayDeadLetters(config, normalizer, q, metrics, clock, {});
  REQUIRE_MESSAGE(replayed.ok(), replayed.status().ToString());
  CHECK(replayed->records == 1);
  CHECK(q.Stats().records == 1);

  const int64_t hour = 3'600'000;
  clock.Advance(hour / 2);
  auto expired = q.Expire(hour);
  REQUIRE(expired.ok());
  CHECK(*expired == 0);
  CHECK(q.Stats().records == 1);
  clock.Advance(hour);  // past max_age since the replay: now it goes
  expired = q.Expire(hour);
  REQUIRE(expired.ok());
  CHECK(*expired == 1);
}

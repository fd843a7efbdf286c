// The agent around its pipeline (agent/agent.h): what Reload and Replay do once it stops.
#include "agent/agent.h"

#include <doctest/doctest.h>

#include "support/temp_dir.h"
#include "support/test_queue.h"

using namespace ferry;

namespace {

agent::Config SmallConfig(const std::string& dir) {
  agent::Config c;
  c.gateway.id = "gw-test";
  c.storage.path = dir + "/queue.db";
  c.upstream.url = "http://127.0.0.1:9/v1/batches";
  return c;
}

}  // namespace

// Finding 2 of issue 10: the status server outlived the pipeline at shutdown, and a replay or
// reload request in between dereferenced the null pipeline.
TEST_CASE(
    "regression issue 10 #2: replay and reload after Stop answer stopping, no null pipeline") {
  testing::TempDir dir;
  agent::Config config = SmallConfig(dir.path());
  platform::FakeClock clock;
  auto queue = testing::OpenTestQueue(config.storage.path, clock);
  agent::Agent agent(config, dir.File("ferry.json"), *queue, clock);
  agent.Stop();
  platform::Result<agent::ReplayResult> replayed = agent.Replay({});
  REQUIRE_FALSE(replayed.ok());
  CHECK(replayed.status().code() == platform::Code::kUnavailable);
  CHECK(replayed.status().message() == "stopping");
  platform::Status reloaded = agent.Reload();
  CHECK(reloaded.code() == platform::Code::kUnavailable);
  agent.Stop();  // a second Stop is harmless
}

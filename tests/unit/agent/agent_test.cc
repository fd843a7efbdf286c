// The agent around its pipeline (agent/agent.h): what Reload and Replay do once it stops.
#include "agent/agent.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include "agent/status/status_server.h"

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

// The same finding, over HTTP: a replay, purge or reload refused because the agent stops is
// 503 (try again later), not 500 (a fault), and a client's `ferry` command says so.
TEST_CASE("regression issue 10 #2: a change refused while stopping answers 503 over HTTP") {
  testing::TempDir dir;
  agent::Config config = SmallConfig(dir.path());
  config.status.listen = "127.0.0.1:0";
  platform::FakeClock clock;
  auto queue = testing::OpenTestQueue(config.storage.path, clock);
  agent::Metrics metrics;
  agent::AgentState state;
  agent::StatusServer server(
      config, *queue, metrics, state, clock,
      [](std::span<const int64_t>) -> platform::Result<agent::ReplayResult> {
        return platform::Status::Unavailable("stopping");
      },
      [] { return platform::Status::Unavailable("stopping"); });
  REQUIRE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  auto replay = client.Post("/dead-letters/replay", R"({"all":true})", "application/json");
  REQUIRE(replay);
  CHECK(replay->status == 503);
  CHECK(replay->body.find("stopping") != std::string::npos);
  auto reload = client.Post("/reload", "", "application/json");
  REQUIRE(reload);
  CHECK(reload->status == 503);
  auto bad = client.Post("/dead-letters/replay", R"({"nothing":1})", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  server.Stop();
}

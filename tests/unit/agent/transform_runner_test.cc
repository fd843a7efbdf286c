// A transform's co-process (agent/transform/runner.h) with small real programs: python3 scripts
// written into a temporary directory, run without a sandbox (the unit tests must not depend on
// the host's bubblewrap).
#include "agent/transform/runner.h"

#include <doctest/doctest.h>

#include <fstream>

#include "platform/clock.h"
#include "support/temp_dir.h"

namespace ferry::agent {
namespace {

constexpr const char* kEcho = R"(
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    recs = req["records"]
    for r in recs:
        r["data"]["seen"] = req["id"]
    print(json.dumps({"id": req["id"], "records": recs}), flush=True)
)";

// Answers in reverse order once it has read all `n` requests of a batch.
constexpr const char* kReverse = R"(
import json, sys
held = []
for line in sys.stdin:
    held.append(json.loads(line))
    if len(held) == 3:
        for req in reversed(held):
            print(json.dumps({"id": req["id"], "records": [{"data": {"n": req["id"]}}]}))
        sys.stdout.flush()
        held = []
)";

TransformConfig Script(const testing::TempDir& dir, const std::string& name,
                       const std::string& text) {
  std::string path = dir.File(name + ".py");
  std::ofstream(path) << text;
  TransformConfig c;
  c.name = name;
  c.command = {"python3", path};
  c.sandbox = platform::Isolation::kNone;
  c.timeout_ms = 2000;
  c.restart_initial_ms = 0;
  c.restart_max_ms = 0;
  c.memory = 256ull << 20;
  return c;
}

std::vector<TransformItem> Items(int n) {
  std::vector<TransformItem> items(n);
  for (int i = 0; i < n; ++i) {
    items[i].topic = "t";
    items[i].payload = "{}";
    items[i].received_ms = 1000;
    Normalized rec;
    rec.data = {{"i", i}};
    items[i].input.push_back(rec);
  }
  return items;
}

TEST_CASE("a transform answers a batch; the process stays up for the next") {
  testing::TempDir dir;
  TransformRunner runner(Script(dir, "echo", kEcho), dir.File("priv"), platform::SystemClock());
  for (int round = 0; round < 2; ++round) {
    std::vector<TransformItem> items = Items(50);
    runner.Run(items);
    for (int i = 0; i < 50; ++i) {
      REQUIRE(items[i].error.empty());
      REQUIRE(items[i].records.size() == 1);
      CHECK(items[i].records[0].data["i"] == i);
    }
  }
  TransformStats s = runner.Stats();
  CHECK(s.state == "running");
  CHECK(s.starts == 1);
  CHECK(s.requests == 100);
  CHECK(s.failures == 0);
  CHECK(s.latency_count == 100);
  CHECK(s.isolation.find("none") == 0);
}

TEST_CASE("replies in any order are matched by id") {
  testing::TempDir dir;
  TransformRunner runner(Script(dir, "rev", kReverse), dir.File("priv"), platform::SystemClock());
  std::vector<TransformItem> items = Items(3);
  runner.Run(items);
  for (auto& item : items) REQUIRE(item.records.size() == 1);
  CHECK(items[0].records[0].data["n"].get<uint64_t>() + 2 ==
        items[2].records[0].data["n"].get<uint64_t>());
}

TEST_CASE("more requests than max_in_flight go through in turn") {
  testing::TempDir dir;
  TransformConfig c = Script(dir, "echo", kEcho);
  c.max_in_flight = 2;
  TransformRunner runner(c, dir.File("priv"), platform::SystemClock());
  std::vector<TransformItem> items = Items(40);
  runner.Run(items);
  for (auto& item : items) CHECK(item.records.size() == 1);
}

TEST_CASE("a transform that never answers is killed after the timeout and restarted") {
  testing::TempDir dir;
  TransformConfig c = Script(dir, "never", "import sys, time\nfor l in sys.stdin: pass\n");
  c.timeout_ms = 200;
  TransformRunner runner(c, dir.File("priv"), platform::SystemClock());
  std::vector<TransformItem> items = Items(2);
  runner.Run(items);
  CHECK(items[0].error.starts_with("transform never failed: no reply within 200ms"));
  CHECK(!items[1].error.empty());
  TransformStats s = runner.Stats();
  CHECK(s.kills == 1);
  CHECK(s.failures == 2);
  runner.Run(items);  // restart_backoff 0: started again at once
  CHECK(runner.Stats().starts == 2);
  CHECK(runner.Stats().restarts == 1);
}

TEST_CASE("garbage, unknown ids and over-long lines kill the transform; the reason says which") {
  testing::TempDir dir;
  struct Case {
    const char* name;
    const char* script;
    const char* reason;
  } cases[] = {
      {"garbage", "import sys\nfor l in sys.stdin: print('nope', flush=True)\n",
       "reply is not a JSON object"},
      {"unknown",
       "import sys, json\nfor l in sys.stdin: print(json.dumps({'id': 999, 'records': []}), "
       "flush=True)\n",
       "replied to id 999"},
      {"long", "import sys\nfor l in sys.stdin: print('x' * 5000, flush=True)\n",
       "wrote a reply line longer than max_output"},
      {"exits", "import sys\nsys.exit(3)\n", "closed its stdout"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    TransformConfig c = Script(dir, k.name, k.script);
    c.max_output = 1024;
    TransformRunner runner(c, dir.File("priv"), platform::SystemClock());
    std::vector<TransformItem> items = Items(1);
    runner.Run(items);
    CHECK(items[0].error.find(k.reason) != std::string::npos);
    CHECK(runner.Stats().kills == 1);
  }
}

TEST_CASE("an error reply dead-letters that message only; the process stays up") {
  testing::TempDir dir;
  TransformRunner runner(Script(dir, "picky", R"(
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    if req["id"] % 2:
        print(json.dumps({"id": req["id"], "error": "odd"}), flush=True)
    else:
        print(json.dumps({"id": req["id"], "records": []}), flush=True)
)"),
                         dir.File("priv"), platform::SystemClock());
  std::vector<TransformItem> items = Items(4);
  runner.Run(items);
  int errors = 0;
  for (auto& item : items) errors += item.error == "transform picky: odd";
  CHECK(errors == 2);
  CHECK(runner.Stats().errors == 2);
  CHECK(runner.Stats().kills == 0);
}

TEST_CASE("while a restart waits its backoff, requests fail at once") {
  testing::TempDir dir;
  TransformConfig c = Script(dir, "exits", "import sys\nsys.exit(1)\n");
  c.restart_initial_ms = 60'000;
  c.restart_max_ms = 60'000;
  TransformRunner runner(c, dir.File("priv"), platform::SystemClock());
  std::vector<TransformItem> items = Items(1);
  runner.Run(items);
  runner.Run(items);
  CHECK(items[0].error.find("not running: restarting in") != std::string::npos);
  CHECK(runner.Stats().starts == 1);
  CHECK(runner.Stats().state == "restarting");
}

}  // namespace
}  // namespace ferry::agent

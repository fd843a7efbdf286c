// The queue's files while it is open (FORMAT.md, "Flash writes"): no -shm file, the file held
// against a second opener.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "platform/clock.h"
#include "platform/random.h"
#include "storage/queue.h"
#include "support/temp_dir.h"

using namespace ferry;
using storage::Queue;

namespace {

storage::QueueOptions Options(const std::string& path) {
  storage::QueueOptions o;
  o.path = path;
  o.max_bytes = 64ull << 20;
  o.boot_id = "boot-a";
  return o;
}

platform::Result<std::unique_ptr<Queue>> Open(const std::string& path, platform::Clock& clock) {
  platform::FixedRandom random(5);
  return Queue::Open(Options(path), clock, random);
}

void Append(Queue& q, uint32_t count) {
  storage::AppendRequest req;
  req.count = count;
  req.oldest_received_ms = 1000;
  req.encode = [count](uint64_t first, std::string& out) {
    for (uint64_t s = first; s < first + count; ++s) out += "{\"seq\":" + std::to_string(s) + "}\n";
  };
  auto r = q.Append(req);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
}

}  // namespace

// Regression, issue 15: a second ferry on the same storage.path opened the file beside the first
// (WAL mode lets two writers take turns); each kept its own counters in memory.
TEST_CASE("a second opener of the queue's file is refused with a clear error while it is open") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string path = dir.File("q.db");
  auto first = Open(path, clock);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  Append(**first, 3);
  CHECK(!std::filesystem::exists(path + "-shm"));  // the WAL index is in heap memory

  auto second = Open(path, clock);
  REQUIRE(!second.ok());
  CHECK(second.status().code() == platform::Code::kUnavailable);
  CHECK(second.status().message().find("in use by another process") != std::string::npos);
  Append(**first, 2);  // the first is unharmed
  CHECK((*first)->Stats().records == 5);

  first->reset();
  auto after = Open(path, clock);
  REQUIRE_MESSAGE(after.ok(), after.status().ToString());
  CHECK((*after)->Stats().records == 5);
}

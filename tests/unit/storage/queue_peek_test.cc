// Queue::Peek: the oldest queued records as lines (`ferry queue peek`, issue 14).
#include <doctest/doctest.h>

#include <string>

#include "storage/queue.h"
#include "support/temp_dir.h"

using namespace ferry;
using storage::Queue;

namespace {

std::unique_ptr<Queue> OpenPeekQueue(const std::string& path, platform::Clock& clock) {
  platform::FixedRandom random(7);
  auto q = Queue::Open({path, 64ull << 20, false, 3, false, "boot-a"}, clock, random);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return std::move(*q);
}

// Appends one block of `count` records whose lines are {"n":SEQ}.
void AppendBlock(Queue& q, uint32_t count) {
  storage::AppendRequest req;
  req.count = count;
  req.oldest_received_ms = 1000;
  req.encode = [count](uint64_t first, std::string& out) {
    for (uint64_t s = first; s < first + count; ++s) out += "{\"n\":" + std::to_string(s) + "}\n";
  };
  auto r = q.Append(req);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
}

std::string Line(uint64_t seq) { return "{\"n\":" + std::to_string(seq) + "}"; }

}  // namespace

TEST_CASE("peek of an empty queue shows no lines and nothing queued") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenPeekQueue(dir.path() + "/q.db", clock);
  auto peek = q->Peek(10);
  REQUIRE(peek.ok());
  CHECK(peek->queued == 0);
  CHECK(peek->lines.empty());
}

TEST_CASE("peek shows the oldest records across blocks up to the limit, without newlines") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenPeekQueue(dir.path() + "/q.db", clock);
  AppendBlock(*q, 3);
  AppendBlock(*q, 4);
  AppendBlock(*q, 5);
  auto peek = q->Peek(5);
  REQUIRE(peek.ok());
  CHECK(peek->queued == 12);
  REQUIRE(peek->lines.size() == 5);
  for (uint64_t i = 0; i < 5; ++i) CHECK(peek->lines[i] == Line(i + 1));

  auto all = q->Peek(1000);
  REQUIRE(all.ok());
  REQUIRE(all->lines.size() == 12);
  CHECK(all->lines.back() == Line(12));
  CHECK(q->Peek(0)->lines.empty());
}

TEST_CASE("peek leaves the queue as it was and skips delivered records") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenPeekQueue(dir.path() + "/q.db", clock);
  AppendBlock(*q, 4);
  AppendBlock(*q, 4);
  REQUIRE(q->Peek(3).ok());
  CHECK(q->Stats().records == 8);
  storage::BatchLimits limits;
  limits.max_records = 2;  // cuts the first block: a delivered part of a block stays hidden
  auto batch = q->NextBatch(limits);
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  CHECK((*batch)->first_seq == 1);
  CHECK((*batch)->last_seq == 2);
  REQUIRE(q->Ack(1, 2).ok());
  auto peek = q->Peek(3);
  REQUIRE(peek.ok());
  CHECK(peek->queued == 6);
  REQUIRE(peek->lines.size() == 3);
  CHECK(peek->lines[0] == Line(3));
  CHECK(peek->lines[2] == Line(5));
}

// The deletes of delivered batches wait for the next write transaction (storage/FORMAT.md,
// "Flash writes"): what the queue says at once, what is on disk, and what a crash brings back.
#include <sqlite3.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>

#include "storage/queue.h"
#include "support/temp_dir.h"

using namespace ferry;
using storage::AppendRequest;
using storage::BatchLimits;
using storage::Queue;

namespace {

std::unique_ptr<Queue> Open(const std::string& path, platform::Clock& clock) {
  platform::FixedRandom random(7);
  storage::QueueOptions options{.path = path,
                                .max_bytes = 64ull << 20,
                                .sync_full = true,
                                .compression_level = 3,
                                .drop_oldest = false,
                                .boot_id = "boot-a"};
  options.exclusive = false;  // Rows() reads the file through a second connection meanwhile
  auto q = Queue::Open(options, clock, random);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return std::move(*q);
}

void Append(Queue& q, uint32_t count, std::string_view acks = {},
            std::optional<BatchLimits> seal = std::nullopt) {
  AppendRequest req;
  req.count = count;
  req.seal_batch = seal;
  req.oldest_received_ms = 1000;
  req.acks = acks;
  req.encode = [count](uint64_t first, std::string& out) {
    for (uint64_t s = first; s < first + count; ++s) out += "{\"seq\":" + std::to_string(s) + "}\n";
  };
  auto r = q.Append(req);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
}

// Rows of `table` as another connection reads the file (committed transactions only).
int64_t Rows(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("SELECT count(*) FROM " + table).c_str(), -1, &st, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

storage::BatchPlan Next(Queue& q) {
  auto plan = q.NextBatch(BatchLimits{});
  REQUIRE(plan.ok());
  REQUIRE(plan->has_value());
  return **plan;
}

}  // namespace

TEST_CASE("a delivered batch leaves the queue at once and its rows with the next append") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string path = dir.File("q.db");
  auto q = Open(path, clock);
  Append(*q, 3);
  storage::BatchPlan b = Next(*q);
  REQUIRE(q->Ack(b.first_seq, b.last_seq).ok());
  CHECK(q->Stats().records == 0);
  CHECK(q->Stats().stored_bytes == 0);
  auto none = q->NextBatch(BatchLimits{});
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(Rows(path, "blocks") == 1);  // no commit of its own
  CHECK(Rows(path, "batches") == 1);

  Append(*q, 2);
  CHECK(Rows(path, "blocks") == 1);  // the new block only: the delete rode along
  CHECK(Rows(path, "batches") == 0);
  storage::BatchPlan c = Next(*q);
  CHECK(c.first_seq == 4);
  CHECK(c.last_seq == 5);
  CHECK(q->Stats().records == 2);
}

TEST_CASE("the next batch carries the delete of the delivered one") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string path = dir.File("q.db");
  auto q = Open(path, clock);
  Append(*q, 2);
  storage::BatchPlan b = Next(*q);
  Append(*q, 2);
  REQUIRE(q->Ack(b.first_seq, b.last_seq).ok());
  storage::BatchPlan c = Next(*q);  // forms and commits batch 3-4
  CHECK(c.first_seq == 3);
  CHECK(Rows(path, "blocks") == 1);
  CHECK(Rows(path, "batches") == 1);
  REQUIRE(q->Ack(c.first_seq, c.last_seq).ok());
  CHECK(q->Stats().records == 0);
}

TEST_CASE("a delivered batch whose delete was not written comes back with the same range") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string path = dir.File("q.db");
  std::string crashed = dir.File("crashed.db");
  auto q = Open(path, clock);
  Append(*q, 3, "ack-of-3");
  storage::BatchPlan b = Next(*q);
  REQUIRE(q->Ack(b.first_seq, b.last_seq).ok());
  // The files as a crash right now would leave them (every commit is in them).
  std::filesystem::copy_file(path, crashed);
  std::filesystem::copy_file(path + "-wal", crashed + "-wal");
  q.reset();
  auto back = Open(crashed, clock);
  CHECK(back->Stats().records == 3);
  storage::BatchPlan again = Next(*back);
  CHECK(again.first_seq == b.first_seq);
  CHECK(again.last_seq == b.last_seq);
  auto acks = back->RecentAcks(1 << 20);
  REQUIRE(acks.ok());
  REQUIRE(acks->size() == 1);  // the redelivery filter still has the group's acks
  CHECK((*acks)[0] == "ack-of-3");
}

TEST_CASE("closing the queue writes the pending delete") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string path = dir.File("q.db");
  auto q = Open(path, clock);
  Append(*q, 3, "ack-of-3");
  storage::BatchPlan b = Next(*q);
  REQUIRE(q->Ack(b.first_seq, b.last_seq).ok());
  q.reset();
  CHECK(Rows(path, "blocks") == 0);
  auto again = Open(path, clock);
  CHECK(again->Stats().records == 0);
  CHECK(again->Stats().next_seq == 4);
  auto none = again->NextBatch(BatchLimits{});
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto acks = again->RecentAcks(1 << 20);  // kept for redeliveries, once
  REQUIRE(acks.ok());
  REQUIRE(acks->size() == 1);
  CHECK((*acks)[0] == "ack-of-3");
}

TEST_CASE("acks of a delivered group are offered once while its delete is pending") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = Open(dir.File("q.db"), clock);
  Append(*q, 2, "first");
  storage::BatchPlan b = Next(*q);
  REQUIRE(q->Ack(b.first_seq, b.last_seq).ok());
  auto pending = q->RecentAcks(1 << 20);
  REQUIRE(pending.ok());
  CHECK(pending->size() == 1);
  Append(*q, 1, "second");
  auto written = q->RecentAcks(1 << 20);
  REQUIRE(written.ok());
  REQUIRE(written->size() == 2);
  CHECK((*written)[0] == "second");
  CHECK((*written)[1] == "first");
}

TEST_CASE("a batch acknowledged before an older one is refused") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = Open(dir.File("q.db"), clock);
  Append(*q, 2);
  storage::BatchPlan b = Next(*q);
  REQUIRE(q->SplitBatch(b.first_seq, b.last_seq).ok());
  CHECK(q->Ack(2, 2).code() == platform::Code::kInvalidArgument);
  REQUIRE(q->Ack(1, 1).ok());
  REQUIRE(q->Ack(2, 2).ok());
  CHECK(q->Stats().records == 0);
}

TEST_CASE("a group sealed as a batch is the batch, written in its own commit") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = Open(dir.File("q.db"), clock);
  Append(*q, 3, {}, BatchLimits{});
  // Another connection sees the batch's row with the records: no commit of its own follows.
  CHECK(Rows(dir.File("q.db"), "batches") == 1);
  storage::BatchPlan b = Next(*q);
  CHECK(b.first_seq == 1);
  CHECK(b.last_seq == 3);
  CHECK(Rows(dir.File("q.db"), "batches") == 1);
  // While that batch waits for the landing zone, the next group is not sealed: it waits for
  // the forwarder's own batching, which a backlog needs.
  Append(*q, 2, {}, BatchLimits{});
  CHECK(Rows(dir.File("q.db"), "batches") == 1);
  REQUIRE(q->Ack(1, 3).ok());
  // Once it is delivered, the next sealed group takes what is not batched yet, up to the
  // limits, ending on a block boundary (4-5 and 6-9 do not fit in 5 records together).
  Append(*q, 4, {}, BatchLimits{5, 1 << 20, false});
  b = Next(*q);
  CHECK(b.first_seq == 4);
  CHECK(b.last_seq == 5);
  CHECK(Rows(dir.File("q.db"), "batches") == 1);  // the delivered one's delete rode along
}

TEST_CASE("a sealed batch survives a crash with its records and is sent with the same range") {
  testing::TempDir dir;
  platform::FakeClock clock;
  {
    auto q = Open(dir.File("q.db"), clock);
    Append(*q, 3, {}, BatchLimits{});
    Append(*q, 2);  // more records must not grow the sealed batch
  }
  auto q = Open(dir.File("q.db"), clock);
  storage::BatchPlan b = Next(*q);
  CHECK(b.first_seq == 1);
  CHECK(b.last_seq == 3);
}

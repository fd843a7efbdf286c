#include "storage/queue.h"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "platform/file.h"
#include "storage/batch_assembler.h"
#include "storage/zstd_codec.h"
#include "support/temp_dir.h"

using namespace ferry;
using storage::AppendRequest;
using storage::BatchLimits;
using storage::Queue;

namespace {

std::unique_ptr<Queue> OpenQueue(const std::string& path, platform::Clock& clock) {
  platform::FixedRandom random(42);
  auto q = Queue::Open({path, 64ull << 20, false, 3, false, "boot-a"}, clock, random);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return std::move(*q);
}

// Appends `count` records whose lines are {"seq":N}.
storage::SeqRange AppendRecords(Queue& q, uint32_t count, int64_t received_ms = 1000,
                                std::string_view acks = {}) {
  AppendRequest req;
  req.count = count;
  req.oldest_received_ms = received_ms;
  req.acks = acks;
  req.encode = [count](uint64_t first, std::string& out) {
    for (uint64_t s = first; s < first + count; ++s) out += "{\"seq\":" + std::to_string(s) + "}\n";
  };
  auto r = q.Append(req);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return r->range;
}

std::string Body(const storage::BatchPlan& plan, int level = 3, uint32_t* records = nullptr) {
  storage::BatchAssembler assembler(level);
  storage::AssembledBatch out;
  REQUIRE(assembler.Assemble(plan, &out).ok());
  if (records) *records = out.records;
  if (!out.compressed) return out.body;
  storage::ZstdCodec codec;
  std::string plain;
  REQUIRE(codec.Decompress(out.body, 1 << 30, plain).ok());
  return plain;
}

std::string Lines(uint64_t first, uint64_t last) {
  std::string s;
  for (uint64_t i = first; i <= last; ++i) s += "{\"seq\":" + std::to_string(i) + "}\n";
  return s;
}

}  // namespace

TEST_CASE("append assigns consecutive sequence numbers from 1") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  CHECK(AppendRecords(*q, 3).first == 1);
  auto r = AppendRecords(*q, 2);
  CHECK(r.first == 4);
  CHECK(r.last == 5);
  auto s = q->Stats();
  CHECK(s.records == 5);
  CHECK(s.next_seq == 6);
  CHECK(s.epoch.size() == 8);
  CHECK(s.oldest_received_ms == 1000);
}

TEST_CASE("a batch holds the oldest records up to the record limit and ack removes them") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  AppendRecords(*q, 5);
  AppendRecords(*q, 5);
  AppendRecords(*q, 5);
  auto b = q->NextBatch({12, 1 << 20, true});
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK((*b)->first_seq == 1);
  CHECK((*b)->last_seq == 10);  // ends on a stored block's end rather than cutting the third
  CHECK(Body(**b) == Lines(1, 10));
  REQUIRE(q->Ack(1, 10).ok());
  CHECK(q->Stats().records == 5);
  auto next = q->NextBatch({100, 1 << 20, true});
  REQUIRE(next.ok());
  REQUIRE(next->has_value());
  CHECK((*next)->first_seq == 11);
  CHECK(Body(**next) == Lines(11, 15));
  REQUIRE(q->Ack(11, 15).ok());
  CHECK(q->Stats().records == 0);
  auto none = q->NextBatch({100, 1 << 20, true});
  REQUIRE(none.ok());
  CHECK(!none->has_value());
}

TEST_CASE("a stored block larger than a batch is cut at the record limit") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  AppendRecords(*q, 10);
  auto b = q->NextBatch({7, 1 << 20, true});
  REQUIRE(b->has_value());
  CHECK((*b)->last_seq == 7);
  CHECK(Body(**b) == Lines(1, 7));
  REQUIRE(q->Ack(1, 7).ok());
  auto rest = q->NextBatch({7, 1 << 20, true});
  CHECK((*rest)->first_seq == 8);
  CHECK((*rest)->last_seq == 10);
  CHECK(Body(**rest) == Lines(8, 10));
}

TEST_CASE("a partial batch waits until partial batches are allowed") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  AppendRecords(*q, 3);
  auto b = q->NextBatch({10, 1 << 20, false});
  REQUIRE(b.ok());
  CHECK(!b->has_value());
  b = q->NextBatch({3, 1 << 20, false});
  REQUIRE(b.ok());
  CHECK(b->has_value());
}

TEST_CASE("an unacknowledged batch is offered again with the same range after reopening") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string epoch;
  {
    auto q = OpenQueue(dir.File("q.db"), clock);
    epoch = q->epoch();
    AppendRecords(*q, 10);
    auto b = q->NextBatch({4, 1 << 20, true});
    REQUIRE(b.ok());
    REQUIRE(q->NoteAttempt(1).ok());
    AppendRecords(*q, 10);  // more records must not grow the decided batch
  }
  auto q = OpenQueue(dir.File("q.db"), clock);
  CHECK(q->epoch() == epoch);
  CHECK(q->Stats().records == 20);
  auto b = q->NextBatch({100, 1 << 20, true});
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK((*b)->first_seq == 1);
  CHECK((*b)->last_seq == 4);
  CHECK((*b)->attempts == 1);
  REQUIRE(q->Ack(1, 4).ok());
  CHECK(AppendRecords(*q, 1).first == 21);
}

TEST_CASE("sequence numbers keep increasing after every record was delivered and reopened") {
  testing::TempDir dir;
  platform::FakeClock clock;
  {
    auto q = OpenQueue(dir.File("q.db"), clock);
    AppendRecords(*q, 5);
    auto b = q->NextBatch({100, 1 << 20, true});
    REQUIRE(q->Ack(1, 5).ok());
  }
  auto q = OpenQueue(dir.File("q.db"), clock);
  CHECK(q->Stats().records == 0);
  CHECK(AppendRecords(*q, 1).first == 6);
}

TEST_CASE("split halves a batch by sequence range") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  AppendRecords(*q, 10);
  auto b = q->NextBatch({100, 1 << 20, true});
  REQUIRE(q->SplitBatch(1, 10).ok());
  auto first = q->NextBatch({100, 1 << 20, true});
  REQUIRE(first->has_value());
  CHECK((*first)->last_seq == 5);
  CHECK(Body(**first) == Lines(1, 5));
  REQUIRE(q->Ack(1, 5).ok());
  auto second = q->NextBatch({100, 1 << 20, true});
  CHECK((*second)->first_seq == 6);
  CHECK((*second)->last_seq == 10);
  CHECK(q->SplitBatch(7, 7).code() == platform::Code::kInvalidArgument);
}

TEST_CASE("dead-lettering a batch keeps its lines with the reason and removes the records") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  AppendRecords(*q, 2);
  auto b = q->NextBatch({1, 1 << 20, true});
  REQUIRE(q->DeadLetterBatch(1, 1, "422: bad record", "{\"seq\":1}\n").ok());
  auto s = q->Stats();
  CHECK(s.records == 1);
  CHECK(s.dead_letters == 1);
  auto list = q->ListDeadLetters(0, 10);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].reason == "422: bad record");
  CHECK((*list)[0].payload == "{\"seq\":1}");
  CHECK((*list)[0].seq == 1u);
}

TEST_CASE("dead letters from intake are stored with the group and counted") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  storage::DeadLetterInput dl{"empty payload", "a/b", "", 5};
  AppendRequest req;
  req.dead_letters = {&dl, 1};
  REQUIRE(q->Append(req).ok());
  CHECK(q->Stats().dead_letters == 1);
  CHECK(q->Stats().records == 0);
  auto list = q->ListDeadLetters(0, 10);
  CHECK((*list)[0].topic == "a/b");
  CHECK(!(*list)[0].seq.has_value());
}

TEST_CASE("stored blocks are sent as they are when whole, and recompressed when cut") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  AppendRecords(*q, 400);
  AppendRecords(*q, 400);
  auto whole = q->NextBatch({800, 1 << 20, true});
  REQUIRE(whole->has_value());
  REQUIRE((*whole)->blocks.size() == 2);
  uint32_t records = 0;
  CHECK(Body(**whole, 3, &records) == Lines(1, 800));
  CHECK(records == 800);
  storage::BatchPlan cut = **whole;
  cut.first_seq = 3;
  cut.last_seq = 401;
  cut.removed = {5};
  std::string expect = Lines(3, 4) + Lines(6, 401);
  CHECK(Body(cut, 3, &records) == expect);
  CHECK(records == 398);
  CHECK(Body(cut, 0) == expect);
}

TEST_CASE("a file that is not a queue is moved aside and a new queue starts") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string path = dir.File("q.db");
  SUBCASE("garbage header") { std::ofstream(path) << std::string(8192, 'x'); }
  SUBCASE("unknown schema version") {
    auto q = OpenQueue(path, clock);
    q.reset();
    std::ofstream(path, std::ios::in | std::ios::out | std::ios::binary).seekp(60) << "\x7f";
  }
  SUBCASE("truncated database") {
    {
      auto q = OpenQueue(path, clock);
      for (int i = 0; i < 50; ++i) AppendRecords(*q, 100);
    }
    auto size = platform::FileSize(path);
    REQUIRE(size.ok());
    REQUIRE(truncate(path.c_str(), static_cast<off_t>(*size / 3)) == 0);
  }
  auto q = OpenQueue(path, clock);
  auto s = q->Stats();
  REQUIRE(!s.quarantined.empty());
  CHECK(s.quarantined.find(".corrupt-") != std::string::npos);
  CHECK(platform::PathExists(s.quarantined));
  CHECK(s.records == 0);
  CHECK(AppendRecords(*q, 1).first == 1);
}

namespace {

std::unique_ptr<Queue> OpenWith(const std::string& path, platform::Clock& clock, uint64_t max_bytes,
                                bool drop_oldest, const std::string& boot = "boot-a") {
  platform::FixedRandom random(7);
  storage::QueueOptions o{.path = path,
                          .max_bytes = max_bytes,
                          .sync_full = false,
                          .compression_level = 3,
                          .drop_oldest = drop_oldest,
                          .boot_id = boot};
  auto q = Queue::Open(o, clock, random);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return std::move(*q);
}

// Appends `count` records of incompressible text so the quota fills predictably.
platform::Result<storage::AppendResult> AppendNoise(Queue& q, uint32_t count, uint64_t seed,
                                                    platform::Clock& clock) {
  AppendRequest req;
  req.count = count;
  req.oldest_received_ms = clock.WallMillis();
  req.oldest_received_mono_ms = clock.MonotonicMillis();
  req.encode = [count, seed](uint64_t first, std::string& out) {
    platform::FixedRandom unused(0);
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + first;
    for (uint32_t i = 0; i < count; ++i) {
      out += "{\"n\":\"";
      for (int k = 0; k < 200; ++k) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        out += static_cast<char>('a' + x % 26);
      }
      out += "\"}\n";
    }
  };
  return q.Append(req);
}

}  // namespace

TEST_CASE("at the quota the block policy refuses new records and keeps the old ones") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenWith(dir.File("q.db"), clock, 2u << 20, false);
  int stored = 0;
  platform::Status last;
  for (int i = 0; i < 200; ++i) {
    auto r = AppendNoise(*q, 100, i, clock);
    if (!r.ok()) {
      last = r.status();
      break;
    }
    ++stored;
  }
  CHECK(last.code() == platform::Code::kNoSpace);
  CHECK(!q->HasRoom());
  CHECK(q->Stats().records == static_cast<uint64_t>(stored) * 100);
  // Delivering the oldest records makes room again.
  auto b = q->NextBatch({100'000, 1ull << 30, true});
  REQUIRE(b.ok());
  REQUIRE(q->Ack((*b)->first_seq, (*b)->last_seq).ok());
  CHECK(q->HasRoom());
  CHECK(AppendNoise(*q, 100, 999, clock).ok());
}

TEST_CASE("at the quota the drop_oldest policy drops the oldest records and counts them") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenWith(dir.File("q.db"), clock, 2u << 20, true);
  uint64_t dropped = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = AppendNoise(*q, 100, i, clock);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    dropped += r->dropped;
  }
  CHECK(dropped > 0);
  auto s = q->Stats();
  CHECK(s.records + dropped == 20'000);
  CHECK(q->HasRoom());
  // The oldest remaining record is the first one not dropped.
  auto b = q->NextBatch({1, 1ull << 30, true});
  REQUIRE(b.ok());
  CHECK((*b)->first_seq == dropped + 1);
}

TEST_CASE("drop_oldest never leaves a formed batch with fewer records under its key") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenWith(dir.File("q.db"), clock, 2u << 20, true);
  REQUIRE(AppendNoise(*q, 200, 1, clock).ok());
  auto b = q->NextBatch({150, 1ull << 30, true});  // ends inside the block
  REQUIRE((*b)->last_seq == 150);
  uint64_t dropped = 0;
  for (int i = 0; i < 200 && dropped == 0; ++i) {
    auto r = AppendNoise(*q, 100, 10 + i, clock);
    REQUIRE(r.ok());
    dropped += r->dropped;
  }
  // The whole batch 1-150 went with its block; the next batch starts after it.
  CHECK(dropped >= 150);
  auto next = q->NextBatch({1, 1ull << 30, true});
  CHECK((*next)->first_seq > 150);
}

TEST_CASE("expiry drops records older than max_age, by the monotonic clock within one boot") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenWith(dir.File("q.db"), clock, 64u << 20, false);
  REQUIRE(AppendNoise(*q, 10, 1, clock).ok());
  clock.Advance(60'000);
  REQUIRE(AppendNoise(*q, 10, 2, clock).ok());
  SUBCASE("wall clock jumps a day ahead: nothing expires early") {
    clock.JumpWall(86'400'000);
    CHECK(*q->Expire(90'000) == 0);
  }
  SUBCASE("wall clock jumps a day back: expiry still comes on time") {
    clock.JumpWall(-86'400'000);
    clock.Advance(40'000);  // first group 100 s old, second 40 s
    CHECK(*q->Expire(90'000) == 10);
    CHECK(q->Stats().records == 10);
  }
}

TEST_CASE("after a reboot, records are aged by wall time unless their clock was never set") {
  testing::TempDir dir;
  std::string path = dir.File("q.db");
  platform::FakeClock unset(1'000, 5'000'000'000);  // 1970: no RTC, no NTP yet
  {
    auto q = OpenWith(path, unset, 64u << 20, false, "boot-a");
    REQUIRE(AppendNoise(*q, 10, 1, unset).ok());
  }
  platform::FakeClock clock;  // 2025, after NTP
  {
    auto q = OpenWith(path, clock, 64u << 20, false, "boot-a");
    REQUIRE(AppendNoise(*q, 10, 2, clock).ok());  // same boot id: monotonic stamps compare
  }
  auto q = OpenWith(path, clock, 64u << 20, false, "boot-b");
  clock.Advance(1000);
  CHECK(*q->Expire(500) == 0);  // the 1970 stamps do not make the first group look ancient
  CHECK(q->Stats().records == 20);
}

TEST_CASE("counters survive reopening without a scan of every block") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::string path = dir.File("q.db");
  storage::QueueStats before;
  {
    auto q = OpenWith(path, clock, 64u << 20, false);
    for (int i = 0; i < 150; ++i)
      REQUIRE(AppendNoise(*q, 3, i, clock).ok());  // snapshots at 64, 128
    auto b = q->NextBatch({7, 1ull << 30, true});
    REQUIRE(q->Ack((*b)->first_seq, (*b)->last_seq).ok());
    storage::DeadLetterInput dl{"empty payload", "t", "", 1};
    AppendRequest req;
    req.dead_letters = {&dl, 1};
    REQUIRE(q->Append(req).ok());
    before = q->Stats();
  }
  auto q = OpenWith(path, clock, 64u << 20, false);
  auto after = q->Stats();
  CHECK(after.records == before.records);
  CHECK(after.stored_bytes == before.stored_bytes);
  CHECK(after.raw_bytes == before.raw_bytes);
  CHECK(after.dead_letters == 1);
  CHECK(after.next_seq == before.next_seq);
}

TEST_CASE("replaying dead letters deletes them in the same transaction") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenWith(dir.File("q.db"), clock, 64u << 20, false);
  storage::DeadLetterInput dl{"invalid JSON", "t", "{", 1};
  AppendRequest req;
  req.dead_letters = {&dl, 1};
  REQUIRE(q->Append(req).ok());
  auto list = q->ListDeadLetters(0, 10);
  REQUIRE(list->size() == 1);
  int64_t id = (*list)[0].id;
  auto got = q->GetDeadLetters({&id, 1});
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].payload == "{");
  AppendRequest replay;
  replay.count = 1;
  replay.encode = [](uint64_t, std::string& out) { out += "{}\n"; };
  replay.replayed_dead_letters = {&id, 1};
  REQUIRE(q->Append(replay).ok());
  CHECK(q->Stats().dead_letters == 0);
  CHECK(q->ListDeadLetters(0, 10)->empty());
  CHECK(q->Stats().records == 1);
}

namespace {

storage::SeqRange AppendWithAcks(Queue& q, uint32_t count, std::string_view acks) {
  return AppendRecords(q, count, 1000, acks);
}

std::vector<std::string> RecentAcks(Queue& q, size_t min_bytes = 1 << 20) {
  auto acks = q.RecentAcks(min_bytes);
  REQUIRE_MESSAGE(acks.ok(), acks.status().ToString());
  return *acks;
}

void Deliver(Queue& q) {
  auto b = q.NextBatch({1u << 30, 1u << 30, true});
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  REQUIRE(q.Ack((*b)->first_seq, (*b)->last_seq).ok());
}

}  // namespace

TEST_CASE("acks outlive the delivery of their block, newest first, across a reopen") {
  // The broker resends a group whose PUBACKs were lost even when the group was already
  // delivered: its acks must still be there after a restart.
  testing::TempDir dir;
  platform::FakeClock clock;
  {
    auto q = OpenQueue(dir.File("q.db"), clock);
    AppendWithAcks(*q, 2, "group-1");
    Deliver(*q);
    AppendWithAcks(*q, 2, "group-2");
    AppendWithAcks(*q, 2, "group-3");
    CHECK(RecentAcks(*q) == std::vector<std::string>{"group-3", "group-2", "group-1"});
    Deliver(*q);
  }
  auto q = OpenQueue(dir.File("q.db"), clock);
  CHECK(RecentAcks(*q) == std::vector<std::string>{"group-3", "group-2", "group-1"});
  // Stops once enough bytes are collected.
  CHECK(RecentAcks(*q, 8) == std::vector<std::string>{"group-3", "group-2"});
}

TEST_CASE("acks older than the window are forgotten, delivered or not") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  AppendWithAcks(*q, 10, "old-delivered");
  Deliver(*q);
  AppendWithAcks(*q, 10, "old-queued");
  AppendRecords(*q, static_cast<uint32_t>(Queue::kAckWindowSeqs));
  AppendWithAcks(*q, 1, "new");
  CHECK(RecentAcks(*q) == std::vector<std::string>{"new"});
  Deliver(*q);  // the old acks are not copied, and the kept one is pruned
  CHECK(RecentAcks(*q) == std::vector<std::string>{"new"});
}

TEST_CASE("the newest two groups keep their acks when they hold more records than the window") {
  // A route that explodes each message into many records: one group of 1,024 QoS 1 messages
  // can be 20,000 records. A crash before its PUBACKs reach the broker makes the broker resend
  // the whole group, delivered or not, before and after a restart.
  testing::TempDir dir;
  platform::FakeClock clock;
  const auto big = static_cast<uint32_t>(2 * Queue::kAckWindowSeqs + 10);
  {
    auto q = OpenQueue(dir.File("q.db"), clock);
    AppendWithAcks(*q, 1, "before");
    AppendWithAcks(*q, big, "big-1");
    AppendWithAcks(*q, big, "big-2");
    CHECK(RecentAcks(*q) == std::vector<std::string>{"big-2", "big-1"});
    Deliver(*q);  // all three: the two big groups' acks are kept, "before" is past the window
    CHECK(RecentAcks(*q) == std::vector<std::string>{"big-2", "big-1"});
  }
  auto q = OpenQueue(dir.File("q.db"), clock);
  CHECK(RecentAcks(*q) == std::vector<std::string>{"big-2", "big-1"});
}

TEST_CASE("a group without records keeps its acks too, in commit order with the blocks") {
  testing::TempDir dir;
  platform::FakeClock clock;
  {
    auto q = OpenQueue(dir.File("q.db"), clock);
    AppendWithAcks(*q, 2, "records-1");
    storage::DeadLetterInput bad{"not JSON", "t/x", "{", 1000};
    AppendRequest dead_only;
    dead_only.dead_letters = std::span(&bad, 1);
    dead_only.acks = "dead-only";
    REQUIRE(q->Append(dead_only).ok());
    AppendRequest ignored_only;
    ignored_only.acks = "ignored-only";
    REQUIRE(q->Append(ignored_only).ok());
    CHECK(q->Stats().records == 2);  // nothing but acks was stored
    CHECK(q->Stats().next_seq == 3);
    AppendWithAcks(*q, 1, "records-3");
    CHECK(RecentAcks(*q) ==
          std::vector<std::string>{"records-3", "ignored-only", "dead-only", "records-1"});
    Deliver(*q);
  }
  auto q = OpenQueue(dir.File("q.db"), clock);
  CHECK(RecentAcks(*q) ==
        std::vector<std::string>{"records-3", "ignored-only", "dead-only", "records-1"});
}

TEST_CASE("acks of groups without records are capped in number, the newest kept") {
  // A device sending only what becomes dead letters never moves the window: a count bounds them.
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenQueue(dir.File("q.db"), clock);
  for (int i = 0; i < Queue::kKeptAckRows + 5; ++i) {
    AppendRequest ignored_only;
    std::string acks = "g" + std::to_string(i);
    ignored_only.acks = acks;
    REQUIRE(q->Append(ignored_only).ok());
  }
  std::vector<std::string> acks = RecentAcks(*q);
  REQUIRE(acks.size() == Queue::kKeptAckRows);
  CHECK(acks.front() == "g" + std::to_string(Queue::kKeptAckRows + 4));
  CHECK(acks.back() == "g5");
}

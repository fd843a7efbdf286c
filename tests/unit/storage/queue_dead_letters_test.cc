// The dead-letter store's bound, its policies and purging (storage/queue_dead_letters.cc).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "storage/queue.h"
#include "support/temp_dir.h"

using namespace ferry;
using storage::AppendRequest;
using storage::Queue;

namespace {

constexpr uint64_t kQuota = 1ull << 20;  // the smallest storage.max_size

std::unique_ptr<Queue> OpenSmall(const std::string& path, platform::Clock& clock,
                                 bool dead_letters_block = false, uint64_t dl_max = 0) {
  platform::FixedRandom random(7);
  storage::QueueOptions o{.path = path,
                          .max_bytes = kQuota,
                          .sync_full = false,
                          .compression_level = 3,
                          .drop_oldest = false,
                          .boot_id = "boot"};
  o.dead_letter_max_bytes = dl_max;
  o.dead_letters_block = dead_letters_block;
  auto q = Queue::Open(o, clock, random);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return std::move(*q);
}

// One group of `n` dead letters only (every message of it failed normalization).
platform::Status AppendDeadLetters(Queue& q, int n, size_t payload_size = 4000) {
  std::string payload(payload_size, 'x');
  std::vector<storage::DeadLetterInput> dead(n, {"invalid JSON", "dev/bad", payload, 1000});
  AppendRequest req;
  req.dead_letters = dead;
  auto r = q.Append(req);
  return r.ok() ? platform::Status::Ok() : r.status();
}

platform::Status AppendRecords(Queue& q, uint32_t count) {
  AppendRequest req;
  req.count = count;
  req.oldest_received_ms = 1000;
  req.encode = [count](uint64_t first, std::string& out) {
    for (uint64_t s = first; s < first + count; ++s) out += "{\"seq\":" + std::to_string(s) + "}\n";
  };
  auto r = q.Append(req);
  return r.ok() ? platform::Status::Ok() : r.status();
}

}  // namespace

// Issue 10, finding 5: dead letters counted toward storage.max_size, but only record blocks
// could be dropped to make room and nothing removed dead letters, so a device sending only bad
// messages filled the quota and intake stopped for good (HasRoom false for ever, Append
// refused) under the default block policy.
TEST_CASE("regression: dead letters can wedge intake") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenSmall(dir.File("q.db"), clock);
  // Four times the whole quota of bad messages, in groups of 8.
  for (int i = 0; i < 128; ++i) {
    platform::Status st = AppendDeadLetters(*q, 8);
    REQUIRE_MESSAGE(st.ok(), "group " << i << ": " << st.ToString());
  }
  std::string why;
  CHECK_MESSAGE(q->HasRoom(&why), why);
  storage::QueueStats s = q->Stats();
  CHECK(s.dead_letter_max_bytes == kQuota / 4);
  CHECK(s.dead_letter_bytes <= s.dead_letter_max_bytes);
  CHECK(s.dead_letters_dropped > 0);
  CHECK(s.dead_letters + s.dead_letters_dropped == 128 * 8);
  // The newest dead letters are the ones kept.
  auto list = q->ListDeadLetters(0, 1000);
  REQUIRE(list.ok());
  CHECK(list->size() == s.dead_letters);
  CHECK(list->back().id == 128 * 8);
  // Good records still get in.
  for (int i = 0; i < 16; ++i) REQUIRE(AppendRecords(*q, 100).ok());
  CHECK(q->Stats().records == 1600);
}

TEST_CASE("under the block policy a full dead-letter store pauses intake and says why") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenSmall(dir.File("q.db"), clock, /*dead_letters_block=*/true, 64 << 10);
  std::string why;
  REQUIRE(q->HasRoom(&why));
  int groups = 0;
  while (q->HasRoom(&why)) {
    REQUIRE(AppendDeadLetters(*q, 4).ok());
    REQUIRE(++groups < 100);
  }
  CHECK(why.find("dead letters fill storage.dead_letters.max_size") != std::string::npos);
  CHECK(why.find("purge") != std::string::npos);
  storage::QueueStats s = q->Stats();
  CHECK(s.dead_letters_dropped == 0);
  CHECK(s.dead_letters == static_cast<uint64_t>(groups) * 4);
  // Passed by at most the group that reached the bound.
  CHECK(s.dead_letter_bytes < (64u << 10) + 4 * Queue::DeadLetterSize(4000, 7, 12));
  // Purging some makes room again; all of them, too.
  std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 9999};
  auto purged = q->PurgeDeadLetters(ids);
  REQUIRE(purged.ok());
  CHECK(*purged == 12);
  CHECK(q->HasRoom(&why));
  CHECK(q->Stats().dead_letters == s.dead_letters - 12);
  purged = q->PurgeDeadLetters({}, /*all=*/true);
  REQUIRE(purged.ok());
  CHECK(*purged == s.dead_letters - 12);
  CHECK(q->Stats().dead_letters == 0);
  CHECK(q->Stats().dead_letter_bytes == 0);
}

TEST_CASE("a lower dead-letter bound drops the oldest at once; block keeps them") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenSmall(dir.File("q.db"), clock);
  for (int i = 0; i < 10; ++i) REQUIRE(AppendDeadLetters(*q, 2, 1000).ok());
  uint64_t one = Queue::DeadLetterSize(1000, 7, 12);
  CHECK(q->Stats().dead_letter_bytes == 20 * one);
  REQUIRE(q->SetDeadLetterPolicy(5 * one, /*block=*/true).ok());
  CHECK(q->Stats().dead_letters == 20);
  std::string why;
  CHECK(!q->HasRoom(&why));
  REQUIRE(q->SetDeadLetterPolicy(5 * one, /*block=*/false).ok());
  storage::QueueStats s = q->Stats();
  CHECK(s.dead_letters == 5);
  CHECK(s.dead_letters_dropped == 15);
  CHECK(q->ListDeadLetters(0, 100)->front().id == 16);
  CHECK(q->HasRoom(&why));
}

TEST_CASE("the dead-letter count and bytes survive a reopen") {
  testing::TempDir dir;
  platform::FakeClock clock;
  uint64_t bytes = 0;
  {
    auto q = OpenSmall(dir.File("q.db"), clock);
    REQUIRE(AppendDeadLetters(*q, 3, 500).ok());
    // A record the landing zone refused counts too.
    REQUIRE(AppendRecords(*q, 1).ok());
    auto plan = q->NextBatch({});
    REQUIRE((plan.ok() && plan->has_value()));
    REQUIRE(q->DeadLetterBatch(1, 1, "422: refused", "{\"seq\":1}\n").ok());
    std::vector<int64_t> one = {2};
    REQUIRE(q->PurgeDeadLetters(one).ok());
    bytes = q->Stats().dead_letter_bytes;
    CHECK(bytes == 2 * Queue::DeadLetterSize(500, 7, 12) +
                       Queue::DeadLetterSize(9, 0, 12));  // the line without its newline
  }
  auto q = OpenSmall(dir.File("q.db"), clock);
  CHECK(q->Stats().dead_letters == 3);
  CHECK(q->Stats().dead_letter_bytes == bytes);
}

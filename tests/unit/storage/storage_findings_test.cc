// Regression tests for the storage findings of issue 10 ("Nothing acknowledged is ever lost"),
// each named after its finding.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <random>
#include <string>

#include "platform/clock.h"
#include "platform/random.h"
#include "storage/batch_assembler.h"
#include "storage/buffers.h"
#include "storage/queue.h"
#include "storage/sqlite_db.h"
#include "support/fault_vfs.h"
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

std::unique_ptr<Queue> OpenOk(const storage::QueueOptions& o, platform::Clock& clock) {
  platform::FixedRandom random(11);
  auto q = Queue::Open(o, clock, random);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return std::move(*q);
}

// Appends `count` records of `line_bytes` hard-to-compress bytes each.
platform::Status Append(Queue& q, uint32_t count, size_t line_bytes = 8) {
  storage::AppendRequest req;
  req.count = count;
  req.oldest_received_ms = 1000;
  req.encode = [&](uint64_t first, std::string& out) {
    std::mt19937_64 rng(first);
    for (uint64_t s = first; s < first + count; ++s) {
      out += "{\"seq\":" + std::to_string(s) + ",\"x\":\"";
      for (size_t i = 0; i < line_bytes; ++i) out += "0123456789abcdef"[rng() % 16];
      out += "\"}\n";
    }
  };
  return q.Append(req).status();
}

// Changes one meta value behind the queue's back, as a damaged file would hold it.
void DamageMeta(const std::string& path, const std::string& key, const std::string& value) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql = "UPDATE meta SET value='" + value + "' WHERE key='" + key + "'";
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(sqlite3_changes(db) == 1);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("regression #10: a damaged meta value quarantines the queue instead of throwing") {
  for (const char* key : {"acked_through", "boot_first_seq"}) {
    for (const char* value : {"12x", "", "-", "99999999999999999999999"}) {
      CAPTURE(key);
      CAPTURE(value);
      testing::TempDir dir;
      platform::FakeClock clock;
      storage::QueueOptions o = Options(dir.File("q.db"));
      REQUIRE(Append(*OpenOk(o, clock), 3).ok());
      DamageMeta(o.path, key, value);
      std::unique_ptr<Queue> q;
      CHECK_NOTHROW(q = OpenOk(o, clock));  // the same boot: boot_first_seq is read too
      REQUIRE(q);
      CHECK(q->Stats().quarantined.find("q.db.corrupt-") != std::string::npos);
      CHECK(q->Stats().records == 0);
      CHECK(Append(*q, 1).ok());
    }
  }
}

TEST_CASE("regression #11: a failed bind fails the statement instead of running it without") {
  testing::TempDir dir;
  auto db = storage::Db::Open(dir.File("t.db"), {});
  REQUIRE(db.ok());
  REQUIRE((*db)->Exec("CREATE TABLE t(a, b)").ok());
  auto count = [&] { return *(*db)->QueryInt("SELECT count(*) FROM t"); };
  auto insert = (*db)->Prepare("INSERT INTO t VALUES(?,?)");
  REQUIRE(insert.ok());
  // A parameter out of range (SQLITE_RANGE).
  CHECK(!insert->Bind(1, int64_t{1}).Bind(3, int64_t{2}).Run().ok());
  CHECK(count() == 0);
  // A value over SQLite's length limit (SQLITE_TOOBIG), as a huge group's block would be.
  sqlite3_limit((*db)->raw(), SQLITE_LIMIT_LENGTH, 100);
  std::string big(200, 'x');
  CHECK(!insert->Bind(1, int64_t{1}).BindBlob(2, big).Run().ok());
  CHECK(!insert->Bind(1, int64_t{1}).Bind(2, std::string_view(big)).Run().ok());
  CHECK(count() == 0);
  // The failure does not stick to the statement.
  CHECK(insert->Bind(1, int64_t{1}).Bind(2, int64_t{2}).Run().ok());
  CHECK(count() == 1);
}

TEST_CASE("regression #11: the quota check fails closed when the queue's size cannot be read") {
  testing::TempDir dir;
  testing::FaultVfs vfs("findings");
  platform::FakeClock clock;
  storage::QueueOptions o = Options(dir.File("q.db"));
  o.vfs = vfs.name();
  // The failure is a refused file lock, which only a connection that locks per transaction
  // meets: held exclusively, the queue takes its lock once, at open.
  o.exclusive = false;
  auto q = OpenOk(o, clock);
  REQUIRE(Append(*q, 3).ok());
  std::string why;
  CHECK(q->HasRoom(&why));
  vfs.SetLockError(true);
  CHECK(!q->HasRoom(&why));
  CHECK(why.find("queue's size") != std::string::npos);
  CHECK(!Append(*q, 2).ok());
  vfs.SetLockError(false);
  CHECK(q->HasRoom(&why));
  CHECK(q->Stats().records == 3);
  REQUIRE(Append(*q, 2).ok());
  CHECK(q->Stats().records == 5);
}

TEST_CASE("regression #8: a large group's buffers are released after it, a usual group's kept") {
  testing::TempDir dir;
  platform::FakeClock clock;
  auto q = OpenOk(Options(dir.File("q.db")), clock);
  REQUIRE(Append(*q, 64, 64).ok());  // a usual group: its buffers are kept for the next one
  CHECK(q->BufferBytes() > 0);
  CHECK(q->BufferBytes() <= storage::kReleaseAboveBytes);
  REQUIRE(Append(*q, 2000, 2000).ok());  // about 4 MB of NDJSON
  CHECK(q->BufferBytes() <= storage::kReleaseAboveBytes);

  // The assembler decompresses the large block to cut lines out of it, then lets it go.
  auto plan = q->NextBatch({100'000, 64u << 20, true});
  REQUIRE(plan.ok());
  REQUIRE(plan->has_value());
  storage::BatchAssembler assembler(0);
  storage::AssembledBatch body;
  REQUIRE(assembler.Assemble(**plan, &body).ok());
  CHECK(body.records == 2064);
  CHECK(body.body.size() > 4'000'000);
  CHECK(assembler.BufferBytes() <= storage::kReleaseAboveBytes);
}

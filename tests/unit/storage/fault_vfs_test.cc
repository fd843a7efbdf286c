// The queue under the storage faults tests/support/fault_vfs.h injects: failed and slow syncs,
// a full disk, failed writes, corrupt reads and power cuts.
#include <doctest/doctest.h>

#include <string>

#include "platform/clock.h"
#include "platform/random.h"
#include "storage/queue.h"
#include "support/fault_vfs.h"
#include "support/temp_dir.h"

using namespace ferry;
using storage::Queue;
using testing::FaultVfs;

namespace {

storage::QueueOptions Options(const std::string& path, bool sync_full) {
  storage::QueueOptions o;
  o.path = path;
  o.max_bytes = 64ull << 20;
  o.sync_full = sync_full;
  o.boot_id = "boot-a";
  o.vfs = "fault-test";
  return o;
}

platform::Result<std::unique_ptr<Queue>> Open(const storage::QueueOptions& o,
                                              platform::Clock& clock) {
  platform::FixedRandom random(7);
  return Queue::Open(o, clock, random);
}

platform::Status Append(Queue& q, uint32_t count) {
  storage::AppendRequest req;
  req.count = count;
  req.oldest_received_ms = 1000;
  req.encode = [count](uint64_t first, std::string& out) {
    for (uint64_t s = first; s < first + count; ++s) out += "{\"seq\":" + std::to_string(s) + "}\n";
  };
  return q.Append(req).status();
}

}  // namespace

TEST_CASE("fault vfs: a failed sync stores nothing and the queue goes on after it") {
  testing::TempDir dir;
  FaultVfs vfs("fault-test");
  platform::FakeClock clock;
  auto q = Open(Options(dir.File("q.db"), true), clock);
  REQUIRE(q.ok());
  REQUIRE(Append(**q, 3).ok());
  vfs.SetSyncError(true);
  platform::Status st = Append(**q, 2);
  CHECK(st.code() == platform::Code::kIoError);
  CHECK((*q)->Stats().records == 3);
  vfs.SetSyncError(false);
  REQUIRE(Append(**q, 2).ok());
  CHECK((*q)->Stats().records == 5);
  CHECK((*q)->Stats().next_seq == 6);
}

TEST_CASE("fault vfs: a corrupt read of a stored block is an error, never a crash") {
  testing::TempDir dir;
  FaultVfs vfs("fault-test");
  platform::FakeClock clock;
  storage::QueueOptions o = Options(dir.File("q.db"), true);
  {
    auto q = Open(o, clock);
    REQUIRE(q.ok());
    for (int i = 0; i < 130; ++i) REQUIRE(Append(**q, 50).ok());
  }
  // A new connection: it reads only the newest blocks (after the counters' snapshot) at open.
  auto q = Open(o, clock);
  REQUIRE(q.ok());
  vfs.SetReadCorruption(o.path);
  auto b = (*q)->NextBatch({10'000, 1 << 20, true});  // the middle blocks are not cached
  vfs.SetReadCorruption("");
  CHECK(!b.ok());
  CHECK(b.status().code() == platform::Code::kCorruption);
}

TEST_CASE("fault vfs: a slow sync only takes longer") {
  testing::TempDir dir;
  FaultVfs vfs("fault-test");
  platform::FakeClock clock;
  auto q = Open(Options(dir.File("q.db"), true), clock);
  REQUIRE(q.ok());
  vfs.SetSyncDelay(std::chrono::milliseconds(5));
  CHECK(Append(**q, 3).ok());
  CHECK((*q)->Stats().records == 3);
}

TEST_CASE("fault vfs: a full disk is kNoSpace and a failed write kIoError, nothing stored") {
  testing::TempDir dir;
  FaultVfs vfs("fault-test");
  platform::FakeClock clock;
  auto q = Open(Options(dir.File("q.db"), true), clock);
  REQUIRE(q.ok());
  vfs.SetWriteError(FaultVfs::WriteError::kNoSpace);
  CHECK(Append(**q, 3).code() == platform::Code::kNoSpace);
  vfs.SetWriteError(FaultVfs::WriteError::kIo);
  CHECK(Append(**q, 3).code() == platform::Code::kIoError);
  CHECK((*q)->Stats().records == 0);
  vfs.SetWriteError(FaultVfs::WriteError::kNone);
  REQUIRE(Append(**q, 3).ok());
  auto b = (*q)->NextBatch({100, 1 << 20, true});
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK((*b)->first_seq == 1);
  CHECK((*b)->last_seq == 3);
}

TEST_CASE("fault vfs: a corrupt read of the file at open quarantines it and starts anew") {
  testing::TempDir dir;
  FaultVfs vfs("fault-test");
  platform::FakeClock clock;
  storage::QueueOptions o = Options(dir.File("q.db"), true);
  {
    auto q = Open(o, clock);
    REQUIRE(q.ok());
    REQUIRE(Append(**q, 3).ok());
  }
  vfs.SetReadCorruption(o.path);  // that file, not the new one made in its place
  auto q = Open(o, clock);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  CHECK((*q)->Stats().quarantined.find("q.db.corrupt-") != std::string::npos);
  CHECK((*q)->Stats().records == 0);
  CHECK(Append(**q, 1).ok());
}

TEST_CASE("fault vfs: a power cut keeps what was synced (full) and drops what was not (normal)") {
  for (bool full : {true, false}) {
    CAPTURE(full);
    testing::TempDir dir;
    FaultVfs vfs("fault-test");
    platform::FakeClock clock;
    storage::QueueOptions o = Options(dir.File("q.db"), full);
    auto q = Open(o, clock);
    REQUIRE(q.ok());
    REQUIRE(Append(**q, 3).ok());
    REQUIRE(Append(**q, 4).ok());
    vfs.CutPower(FaultVfs::CutMode::kDropUnsynced, 1);
    CHECK(Append(**q, 5).code() == platform::Code::kIoError);
    CHECK(!vfs.PowerOn());  // the old connection is still open
    q->reset();
    REQUIRE(vfs.PowerOn());
    auto again = Open(o, clock);
    REQUIRE_MESSAGE(again.ok(), again.status().ToString());
    CHECK((*again)->Stats().quarantined.empty());
    // normal: the WAL was never synced, so both groups are gone with the power.
    CHECK((*again)->Stats().records == (full ? 7u : 0u));
  }
}

TEST_CASE("fault vfs: a cut armed at an operation count fails that operation and every later one") {
  testing::TempDir dir;
  FaultVfs vfs("fault-test");
  platform::FakeClock clock;
  storage::QueueOptions o = Options(dir.File("q.db"), true);
  auto q = Open(o, clock);
  REQUIRE(q.ok());
  vfs.CutPowerAfter(2, FaultVfs::CutMode::kKeepRandomPrefix, 3);
  CHECK(!Append(**q, 3).ok());
  CHECK(vfs.power_cut());
  CHECK(!Append(**q, 3).ok());
  q->reset();
  REQUIRE(vfs.PowerOn());
  auto again = Open(o, clock);
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK((*again)->Stats().records == 0);
  CHECK(Append(**again, 2).ok());
}

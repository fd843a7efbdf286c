// The queue's epochs (storage/FORMAT.md, "Epochs"): a new one after a run with storage.sync
// "normal" stopped uncleanly in an earlier boot of the machine, none otherwise; records keep the
// epoch they were stored in, and so do their batches' keys.
#include <sqlite3.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "agent/record/record.h"
#include "storage/batch_assembler.h"
#include "storage/queue.h"
#include "storage/zstd_codec.h"
#include "support/fault_vfs.h"
#include "support/temp_dir.h"

using namespace ferry;
using storage::BatchLimits;
using storage::Queue;
using testing::FaultVfs;

namespace {

constexpr char kGateway[] = "gw";

storage::QueueOptions Options(const std::string& path, bool sync_full, std::string boot) {
  storage::QueueOptions o;
  o.path = path;
  o.max_bytes = 64ull << 20;
  o.sync_full = sync_full;
  o.boot_id = std::move(boot);
  // Meta() reads the file through a second connection while the queue is open, which the
  // product's locking_mode EXCLUSIVE refuses; the mark and the epochs do not depend on it.
  o.exclusive = false;
  return o;
}

std::unique_ptr<Queue> Open(const storage::QueueOptions& o, uint64_t seed = 7) {
  static platform::FakeClock clock;
  platform::FixedRandom random(seed);
  auto q = Queue::Open(o, clock, random);
  REQUIRE_MESSAGE(q.ok(), q.status().ToString());
  return std::move(*q);
}

// Appends `count` records as the agent encodes them: ids of the queue's epoch of new records.
void Append(Queue& q, uint32_t count) {
  storage::AppendRequest req;
  req.count = count;
  req.oldest_received_ms = 1000;
  std::string epoch = q.epoch();
  req.encode = [&](uint64_t first, std::string& out) {
    for (uint64_t s = first; s < first + count; ++s) {
      agent::AppendRecordHead(kGateway, epoch, s, out);
      out += "\"x\":1}\n";
    }
  };
  auto r = q.Append(req);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
}

std::optional<storage::BatchPlan> Next(Queue& q, uint32_t max_records) {
  auto plan = q.NextBatch(BatchLimits{max_records, 1 << 20, true});
  REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
  return *plan;
}

// A landing zone keyed by Idempotency-Key, as ferry-landing is: a known key stores nothing.
struct Landing {
  std::map<std::string, std::string> batches;  // key -> NDJSON
  std::set<std::string> ids;

  // Sends the batch as the forwarder does (its key names the batch's epoch) and acknowledges it.
  std::string Deliver(Queue& q, const storage::BatchPlan& plan) {
    storage::BatchAssembler assembler(0);
    storage::AssembledBatch body;
    REQUIRE(assembler.Assemble(plan, &body).ok());
    std::string key = std::string(kGateway) + "." + plan.epoch + "." +
                      std::to_string(plan.first_seq) + "-" + std::to_string(plan.last_seq);
    if (batches.emplace(key, body.body).second) {
      for (const std::string& id : Ids(body.body)) ids.insert(id);
    }
    REQUIRE(q.Ack(plan.first_seq, plan.last_seq).ok());
    return key;
  }

  static std::vector<std::string> Ids(std::string_view ndjson) {
    std::vector<std::string> out;
    while (!ndjson.empty()) {
      size_t at = ndjson.find("\"id\":\"") + 6;
      out.emplace_back(ndjson.substr(at, ndjson.find('"', at) - at));
      ndjson.remove_prefix(ndjson.find('\n') + 1);
    }
    return out;
  }
};

std::vector<std::string> IdsOf(const storage::BatchPlan& plan) {
  storage::BatchAssembler assembler(0);
  storage::AssembledBatch body;
  REQUIRE(assembler.Assemble(plan, &body).ok());
  return Landing::Ids(body.body);
}

// One meta value as another connection reads the file; "" when there is no such row.
std::string Meta(const std::string& path, const std::string& key) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT value FROM meta WHERE key='" + key + "'";
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string value;
  if (sqlite3_step(st) == SQLITE_ROW) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return value;
}

// The files as a crash of the process leaves them: what it wrote, synced or not.
void CopyAsCrashed(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  for (const char* suffix : {"", "-wal"}) {
    if (fs::exists(from + suffix)) fs::copy_file(from + suffix, to + suffix);
  }
}

}  // namespace

TEST_CASE("regression: sync=normal reuses record ids after a power cut") {
  testing::TempDir dir;
  FaultVfs vfs("epochs-regression");
  vfs.SetRealSyncs(false);
  storage::QueueOptions o = Options(dir.File("q.db"), /*sync_full=*/false, "boot-1");
  o.vfs = vfs.name();
  Landing landing;
  std::string first_epoch;
  {
    auto q = Open(o);
    first_epoch = q->epoch();
    Append(*q, 4);  // 1-4
    Append(*q, 4);  // 5-8
    auto a = Next(*q, 4);
    REQUIRE(a);
    CHECK(a->epoch == first_epoch);
  }  // a clean close: all of it is on the disk, the batch [1,4] formed and not sent
  {
    auto q = Open(o);
    CHECK(q->epoch() == first_epoch);  // closed cleanly: no new epoch
    CHECK_FALSE(q->Stats().epoch_started_unclean);
    Append(*q, 4);  // 9-12, never synced
    REQUIRE(Next(*q, 4)->first_seq == 1);
    auto b = Next(*q, 4);  // not acknowledged: [1,4] is still the oldest batch
    REQUIRE(b->first_seq == 1);
    landing.Deliver(*q, *b);
    CHECK(landing.Deliver(*q, *Next(*q, 4)) == "gw." + first_epoch + ".5-8");
    CHECK(landing.Deliver(*q, *Next(*q, 4)) == "gw." + first_epoch + ".9-12");
    vfs.CutPower(FaultVfs::CutMode::kDropUnsynced, 1);
  }
  REQUIRE(vfs.PowerOn());
  REQUIRE(landing.ids.size() == 12);

  // The cut rolled back 9-12 and the batch rows after [1,4]; records 5-8 are kept.
  o.boot_id = "boot-2";
  auto q = Open(o, 8);
  CHECK(q->Stats().epoch_started_unclean);
  CHECK(q->epoch() != first_epoch);
  CHECK(q->Stats().next_seq == 9);
  Append(*q, 4);  // 9-12 again, for other messages
  Append(*q, 4);  // 13-16

  // The batch [1,4] kept its key; 5-8 keep their epoch and never share a batch with 9-.
  auto a = Next(*q, 40);
  REQUIRE(a);
  CHECK(a->epoch == first_epoch);
  CHECK(landing.Deliver(*q, *a) == "gw." + first_epoch + ".1-4");
  auto b = Next(*q, 40);
  REQUIRE(b);
  CHECK(b->first_seq == 5);
  CHECK(b->last_seq == 8);
  CHECK(b->epoch == first_epoch);
  CHECK(landing.Deliver(*q, *b) == "gw." + first_epoch + ".5-8");

  // The new records' ids and batch key are new to the landing zone.
  auto c = Next(*q, 40);
  REQUIRE(c);
  CHECK(c->first_seq == 9);
  CHECK(c->last_seq == 16);
  CHECK(c->epoch == q->epoch());
  for (const std::string& id : IdsOf(*c)) CHECK_MESSAGE(!landing.ids.count(id), id);
  size_t known = landing.batches.size();
  landing.Deliver(*q, *c);
  CHECK(landing.batches.size() == known + 1);
  CHECK(landing.ids.size() == 20);
}

TEST_CASE("a crash of the process alone keeps the epoch; one of the machine starts a new one") {
  testing::TempDir dir;
  storage::QueueOptions o = Options(dir.File("q.db"), /*sync_full=*/false, "boot-1");
  auto q = Open(o);
  Append(*q, 3);
  CHECK(Meta(o.path, "running") == "normal boot-1");  // marked in use while open
  CopyAsCrashed(o.path, dir.File("same-boot.db"));
  CopyAsCrashed(o.path, dir.File("new-boot.db"));
  std::string epoch = q->epoch();
  q.reset();
  CHECK(Meta(o.path, "running").empty());  // cleared at a clean close

  auto same = Open(Options(dir.File("same-boot.db"), false, "boot-1"));
  CHECK(same->epoch() == epoch);
  CHECK_FALSE(same->Stats().epoch_started_unclean);
  auto rebooted = Open(Options(dir.File("new-boot.db"), false, "boot-2"));
  CHECK(rebooted->epoch() != epoch);
  CHECK(rebooted->Stats().epoch_started_unclean);
  CHECK(rebooted->Stats().next_seq == 4);
  auto unknown_boot = Open(Options(o.path, false, ""));  // closed cleanly: no new epoch
  CHECK(unknown_boot->epoch() == epoch);
}

TEST_CASE("with sync full the file is not marked and no crash starts a new epoch") {
  testing::TempDir dir;
  storage::QueueOptions o = Options(dir.File("q.db"), /*sync_full=*/true, "boot-1");
  auto q = Open(o);
  Append(*q, 3);
  CHECK(Meta(o.path, "running").empty());
  CopyAsCrashed(o.path, dir.File("crashed.db"));
  auto again = Open(Options(dir.File("crashed.db"), true, "boot-2"));
  CHECK(again->epoch() == q->epoch());
  CHECK_FALSE(again->Stats().epoch_started_unclean);
  CHECK(Meta(dir.File("crashed.db"), "epochs").empty());
}

TEST_CASE("an unclean sync normal run is followed by a new epoch also when the next run is full") {
  testing::TempDir dir;
  auto q = Open(Options(dir.File("q.db"), false, "boot-1"));
  Append(*q, 2);
  CopyAsCrashed(dir.File("q.db"), dir.File("crashed.db"));
  auto full = Open(Options(dir.File("crashed.db"), true, "boot-2"));
  CHECK(full->epoch() != q->epoch());
  CHECK(Meta(dir.File("crashed.db"), "running").empty());  // this run needs no mark
}

TEST_CASE("an earlier epoch leaves meta once its records were delivered") {
  testing::TempDir dir;
  auto q = Open(Options(dir.File("q.db"), false, "boot-1"));
  Append(*q, 2);  // 1-2
  std::string old_epoch = q->epoch();
  CopyAsCrashed(dir.File("q.db"), dir.File("c.db"));
  q.reset();
  storage::QueueOptions o = Options(dir.File("c.db"), false, "boot-2");
  std::string new_epoch;
  {
    auto c = Open(o);
    new_epoch = c->epoch();
    CHECK(Meta(o.path, "epochs") == "1:" + old_epoch + " 3:" + new_epoch);
    CHECK(Meta(o.path, "epoch") == new_epoch);
    Append(*c, 2);  // 3-4
    auto a = Next(*c, 40);
    CHECK(a->last_seq == 2);
    REQUIRE(c->Ack(a->first_seq, a->last_seq).ok());
  }  // the close writes the delete
  CHECK(Meta(o.path, "epochs") == "3:" + new_epoch);
  auto c = Open(o);
  CHECK(c->epoch() == new_epoch);
  auto b = Next(*c, 40);
  CHECK(b->first_seq == 3);
  CHECK(b->epoch == new_epoch);
}

TEST_CASE("two unclean stops in a row without new records replace the empty epoch") {
  testing::TempDir dir;
  auto q = Open(Options(dir.File("q.db"), false, "boot-1"));
  Append(*q, 2);
  std::string first = q->epoch();
  CopyAsCrashed(dir.File("q.db"), dir.File("c1.db"));
  auto c1 = Open(Options(dir.File("c1.db"), false, "boot-2"), 8);
  CopyAsCrashed(dir.File("c1.db"), dir.File("c2.db"));
  auto c2 = Open(Options(dir.File("c2.db"), false, "boot-3"), 9);
  CHECK(c2->epoch() != c1->epoch());
  CHECK(Meta(dir.File("c2.db"), "epochs") == "1:" + first + " 3:" + c2->epoch());
}

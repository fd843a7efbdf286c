// The forwarder (agent/forward/forwarder.h) round by round, with a fake uploader, the fake
// clock and a real queue: every verdict of landing-protocol.md applied, the breaker, bad blocks.
#include "agent/forward/forwarder.h"

#include <doctest/doctest.h>
#include <httplib.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "agent/status/status_server.h"
#include "support/fault_vfs.h"
#include "support/temp_dir.h"
#include "support/test_queue.h"

using namespace ferry;
using agent::UploadResponse;
using agent::UpstreamState;

namespace {

struct Sent {
  std::string key;
  uint32_t records = 0;
  std::string body;  // plain NDJSON (upstream.compression_level 0)
};

UploadResponse Answer(int status, std::string body = "", std::string retry_after = "") {
  UploadResponse r;
  r.status = status;
  r.body = std::move(body);
  r.retry_after = std::move(retry_after);
  if (status == 0) r.error = "cannot connect";
  return r;
}

// Answers as the test scripts it; 200 once the script is used up.
class FakeUploader : public agent::Uploader {
 public:
  std::deque<UploadResponse> script;
  std::function<UploadResponse(const Sent&)> rule;  // used when the script is empty
  std::vector<Sent> sent;
  int probe_status = 0;
  int probes = 0;

  UploadResponse Send(const agent::UploadRequest& r) override {
    sent.push_back({std::string(r.idempotency_key), r.records, *r.body});
    if (!script.empty()) {
      UploadResponse next = script.front();
      script.pop_front();
      return next;
    }
    return rule ? rule(sent.back()) : Answer(200);
  }
  int Probe() override {
    ++probes;
    return probe_status;
  }
  void Abort() override {}
};

agent::Config TestConfig(const std::string& dir) {
  agent::Config c;
  c.gateway.id = "gw";
  c.storage.path = dir + "/q.db";
  c.upstream.url = "http://127.0.0.1:9/v1/batches";
  c.upstream.compression_level = 0;
  c.upstream.batch_linger_ms = 0;
  c.upstream.backoff_initial_ms = 1'000;
  c.upstream.backoff_max_ms = 60'000;
  c.upstream.breaker_failures = 3;
  c.upstream.breaker_probe_ms = 2'000;
  return c;
}

struct Fixture {
  testing::TempDir dir;
  agent::Config config = TestConfig(dir.path());
  platform::FakeClock clock;
  platform::FixedRandom random{12'345};
  std::unique_ptr<storage::Queue> queue;
  agent::Metrics metrics;
  agent::AgentState state;
  FakeUploader uploader;
  std::unique_ptr<agent::Forwarder> forwarder;

  std::string vfs;  // a FaultVfs's name, or "" for SQLite's own

  explicit Fixture(std::string fault_vfs = "") : vfs(std::move(fault_vfs)) { Reopen(); }

  // Closes the queue (its WAL goes into the file) and opens it again with an empty page cache,
  // as a restart does.
  void Reopen() {
    forwarder.reset();
    queue.reset();
    // Not exclusive: CorruptBlock writes to the file through a second connection.
    queue = testing::OpenTestQueue(config.storage.path, clock, vfs, /*exclusive=*/false);
    forwarder =
        std::make_unique<agent::Forwarder>(config, *queue, uploader, metrics, state, clock, random);
  }

  // One group commit of `count` records; a record whose seq is in `poison` says so.
  void Append(uint32_t count, std::vector<uint64_t> poison = {}) {
    storage::AppendRequest req;
    req.count = count;
    req.oldest_received_ms = clock.WallMillis();
    req.oldest_received_mono_ms = clock.MonotonicMillis();
    req.encode = [&](uint64_t first, std::string& out) {
      for (uint64_t s = first; s < first + count; ++s) {
        bool bad = std::find(poison.begin(), poison.end(), s) != poison.end();
        out += "{\"seq\":" + std::to_string(s) + (bad ? ",\"poison\":true}\n" : "}\n");
      }
    };
    REQUIRE(queue->Append(req).ok());
  }

  // One group commit of `count` records of about `pad` bytes each that compress to about
  // half: a block spread over many pages.
  void AppendPadded(uint32_t count, size_t pad) {
    storage::AppendRequest req;
    req.count = count;
    req.oldest_received_ms = clock.WallMillis();
    req.oldest_received_mono_ms = clock.MonotonicMillis();
    req.encode = [&](uint64_t first, std::string& out) {
      uint64_t x = first * 0x9E3779B97F4A7C15ull;
      for (uint64_t s = first; s < first + count; ++s) {
        out += "{\"seq\":" + std::to_string(s) + ",\"pad\":\"";
        for (size_t i = 0; i < pad; ++i) {
          x = x * 6364136223846793005ull + 1442695040888963407ull;
          out += "0123456789abcdef"[x >> 60];
        }
        out += "\"}\n";
      }
    };
    REQUIRE(queue->Append(req).ok());
  }

  std::string Key(uint64_t first, uint64_t last) const {
    return agent::BatchKey("gw", queue->epoch(), first, last);
  }

  // Rounds until the queue is empty (or `max_rounds`), moving the clock by each wait.
  void Drain(int max_rounds = 200) {
    for (int i = 0; i < max_rounds && queue->Stats().records > 0; ++i) {
      int64_t wait = forwarder->Round();
      if (wait > 0) clock.Advance(wait);
    }
  }
};

}  // namespace

TEST_CASE("2xx: the batch is acknowledged and its records leave the queue") {
  Fixture f;
  f.Append(5);
  CHECK(f.forwarder->Round() == 0);
  REQUIRE(f.uploader.sent.size() == 1);
  CHECK(f.uploader.sent[0].key == f.Key(1, 5));
  CHECK(f.uploader.sent[0].records == 5);
  CHECK(f.queue->Stats().records == 0);
  CHECK(f.metrics.records_delivered == 5);
  CHECK(f.forwarder->upstream_state() == UpstreamState::kOk);
}

TEST_CASE("429 and 503 wait as Retry-After says, then resend the same batch") {
  for (int status : {429, 503}) {
    CAPTURE(status);
    Fixture f;
    f.Append(3);
    f.uploader.script = {Answer(status, "slow down", "7")};
    CHECK(f.forwarder->Round() == 0);
    CHECK(f.forwarder->Round() == 7'000);
    f.clock.Advance(6'999);
    CHECK(f.forwarder->Round() == 1);
    CHECK(f.uploader.sent.size() == 1);
    f.clock.Advance(1);
    CHECK(f.forwarder->Round() == 0);
    REQUIRE(f.uploader.sent.size() == 2);
    CHECK(f.uploader.sent[1].key == f.uploader.sent[0].key);
    CHECK(f.queue->Stats().records == 0);
  }
}

TEST_CASE("5xx and no answer back off by the jittered table, then resend the same batch") {
  Fixture f;
  f.Append(3);
  f.uploader.script = {Answer(500), Answer(0)};
  agent::BackoffPolicy policy{1'000, 60'000};
  platform::FixedRandom same(12'345);
  CHECK(f.forwarder->Round() == 0);
  int64_t first = agent::BackoffDelayMs(policy, 0, same);
  CHECK(f.forwarder->Round() == first);
  CHECK(f.forwarder->upstream_state() == UpstreamState::kBackoff);
  f.clock.Advance(first);
  CHECK(f.forwarder->Round() == 0);  // the second failure: attempt 1 of the table
  CHECK(f.forwarder->Round() == agent::BackoffDelayMs(policy, 1, same));
  f.Drain();
  REQUIRE(f.uploader.sent.size() == 3);
  CHECK(f.uploader.sent[2].key == f.uploader.sent[0].key);
  CHECK(f.queue->Stats().records == 0);
  CHECK(f.metrics.upstream_requests.Snapshot()["500"] == 1);
  CHECK(f.metrics.upstream_requests.Snapshot()["error"] == 1);
}

TEST_CASE("413 splits the batch in two by sequence range") {
  Fixture f;
  f.Append(8);
  f.uploader.script = {Answer(413)};
  f.Drain();
  REQUIRE(f.uploader.sent.size() == 3);
  CHECK(f.uploader.sent[0].key == f.Key(1, 8));
  CHECK(f.uploader.sent[1].key == f.Key(1, 4));
  CHECK(f.uploader.sent[2].key == f.Key(5, 8));
  CHECK(f.metrics.records_delivered == 8);
}

TEST_CASE(
    "400 bisects until the refused record is alone; it becomes a dead letter, the rest land") {
  Fixture f;
  f.Append(8, {6});
  f.uploader.rule = [](const Sent& s) {
    return s.body.find("poison") != std::string::npos ? Answer(400, "bad record") : Answer(200);
  };
  f.Drain();
  CHECK(f.queue->Stats().records == 0);
  CHECK(f.metrics.records_delivered == 7);
  CHECK(f.metrics.records_dead_lettered.Snapshot()["rejected"] == 1);
  auto dead = f.queue->ListDeadLetters(0, 10);
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 1);
  CHECK((*dead)[0].seq == 6);
  CHECK((*dead)[0].payload == "{\"seq\":6,\"poison\":true}");
  CHECK((*dead)[0].reason.find("bad record") != std::string::npos);
  for (const Sent& s : f.uploader.sent) {
    if (s.body.find("poison") == std::string::npos) CHECK(s.records > 0);
  }
}

TEST_CASE("401 and 403 keep the batch, wait the longest backoff and say auth_failed") {
  for (int status : {401, 403}) {
    CAPTURE(status);
    Fixture f;
    f.Append(2);
    f.uploader.script = {Answer(status, "who are you")};
    CHECK(f.forwarder->Round() == 0);
    CHECK(f.forwarder->upstream_state() == UpstreamState::kAuthFailed);
    CHECK(f.forwarder->Round() == 60'000);
    CHECK(f.queue->Stats().records == 2);
    CHECK(f.queue->Stats().dead_letters == 0);
    f.clock.Advance(60'000);
    CHECK(f.forwarder->Round() == 0);
    CHECK(f.queue->Stats().records == 0);
  }
}

TEST_CASE("the breaker opens after failures in a row, probes, and closes on a delivery") {
  Fixture f;
  f.Append(2);
  f.uploader.script = {Answer(0), Answer(503), Answer(0)};
  for (int i = 0; i < 3; ++i) {
    CHECK(f.forwarder->Round() == 0);
    int64_t wait = f.forwarder->Round();
    if (wait > 0) f.clock.Advance(wait);
  }
  REQUIRE(f.uploader.sent.size() == 3);
  CHECK(f.forwarder->breaker().open());
  CHECK(f.forwarder->upstream_state() == UpstreamState::kUnreachable);
  // Open: probes only, no batch, while the landing zone does not answer (the loop above waited
  // for the first probe).
  CHECK(f.forwarder->Round() == 2'000);
  CHECK(f.uploader.probes == 1);
  CHECK(f.uploader.sent.size() == 3);
  f.uploader.probe_status = 404;  // any answer but 5xx or 429
  f.clock.Advance(2'000);
  CHECK(f.forwarder->Round() == 0);
  CHECK(f.forwarder->breaker().state() == agent::CircuitBreaker::State::kHalfOpen);
  CHECK(f.forwarder->Round() == 0);  // the batch at once; its success closes the breaker
  CHECK(f.uploader.sent.size() == 4);
  CHECK(f.forwarder->breaker().state() == agent::CircuitBreaker::State::kClosed);
  CHECK(f.queue->Stats().records == 0);
}

// Finding 9 of issue 10: body.size() * 1000 overflowed a 32-bit size_t (armhf) for bodies over
// 4.29 MB, so the bandwidth cap let a big body go at once. (Fails before the fix on armhf,
// where the cross-build runs these tests under qemu.)
TEST_CASE("regression issue 10 #9: the bandwidth cap's cost is computed in 64 bits") {
  CHECK(agent::SendCostMs(5'000'000, 1'000'000) == 5'000);
  CHECK(agent::SendCostMs(uint64_t{256} << 20, 1 << 20) == 256'000);
  CHECK(agent::SendCostMs(uint64_t{4'300'000'000}, 1'000) == 4'300'000'000);
  CHECK(agent::SendCostMs(1, 0) == 0);
}

namespace {

// Overwrites the stored zstd frame of the block starting at `first_seq` with bytes that do not
// decode (what bit rot on an SD card does), through a second SQLite connection.
std::string CorruptBlock(const std::string& path, uint64_t first_seq) {
  const std::string garbage = "not a zstd frame";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql = "UPDATE blocks SET data=CAST('" + garbage +
                    "' AS BLOB) WHERE first_seq=" + std::to_string(first_seq);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  REQUIRE_MESSAGE(rc == SQLITE_OK, (error ? error : ""));
  CHECK(sqlite3_changes(db) == 1);
  sqlite3_close(db);
  return garbage;
}

}  // namespace

// Finding 4 of issue 10: a stored block that cannot be read made the forwarder retry the same
// batch every second for ever; the queue filled and intake stopped.
TEST_CASE(
    "regression issue 10 #4: an unreadable block goes to the dead letters, delivery goes on") {
  Fixture f;
  f.Append(3);  // seq 1-3
  f.Append(3);  // seq 4-6: this block rots
  f.Append(2);  // seq 7-8
  std::string garbage = CorruptBlock(f.config.storage.path, 4);
  f.Drain();
  CHECK(f.queue->Stats().records == 0);
  // The readable blocks land, the unreadable one is parted from them and set aside.
  std::vector<std::string> keys;
  for (const Sent& s : f.uploader.sent) keys.push_back(s.key);
  CHECK(keys == std::vector<std::string>{f.Key(1, 3), f.Key(7, 8)});
  CHECK(f.metrics.records_delivered == 5);
  CHECK(f.metrics.records_dead_lettered.Snapshot()["unreadable_block"] == 3);
  auto dead = f.queue->ListDeadLetters(0, 10);
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 1);
  CHECK((*dead)[0].payload == garbage);  // its raw bytes, as stored
  CHECK((*dead)[0].reason.starts_with("unreadable stored block"));
}

TEST_CASE("a block that fails to read once is retried, not dead-lettered") {
  Fixture f;
  f.Append(3);
  std::string garbage = CorruptBlock(f.config.storage.path, 1);
  CHECK(f.forwarder->Round() == 1'000);  // the first failure waits and tries again
  CHECK(f.queue->Stats().records == 3);
  CHECK(f.queue->Stats().dead_letters == 0);
  CHECK(f.uploader.sent.empty());
}

namespace {

// The byte range of one page of the queue file that holds part of the block starting at
// `first_seq` (not its first page: a page in the middle of its data), found by looking for
// the block's stored bytes in the file. The queue must have been closed since the block was
// written, so that its pages are in the file and not only in the WAL.
std::pair<int64_t, int64_t> PageOfBlock(const std::string& path, uint64_t first_seq) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT data FROM blocks WHERE first_seq=" + std::to_string(first_seq);
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string data(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                   static_cast<size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  int64_t page = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::ifstream in(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(data.size() > static_cast<size_t>(4 * page));  // several pages
  for (size_t at = data.size() / 2; at + 64 < data.size(); at += 16) {
    size_t found = file.find(data.substr(at, 64));
    if (found != std::string::npos) {
      int64_t start = static_cast<int64_t>(found) / page * page;
      return {start, start + page};
    }
  }
  FAIL("the block's bytes are not in the file");
  return {0, 0};
}

}  // namespace

// Finding 4 of issue 10, the rest of it: a block whose bytes fail to read at the SQL level
// (SQLITE_CORRUPT from a rotten page, SQLITE_IOERR from a bad sector) made NextBatch fail, and
// the forwarder retried it every second for ever. Now the block comes back marked, is tried 3
// times, and goes to the dead letters (with no payload: its bytes cannot be read) while the
// blocks around it are delivered.
TEST_CASE(
    "regression issue 10 #4: a block that fails to read at the SQL level goes to the dead "
    "letters after 3 tries, delivery goes on") {
  using testing::FaultVfs;
  for (FaultVfs::ReadFault fault : {FaultVfs::ReadFault::kCorrupt, FaultVfs::ReadFault::kIo}) {
    CAPTURE(static_cast<int>(fault));
    FaultVfs vfs("fault-forwarder");
    Fixture f(vfs.name());
    f.Append(3);              // seq 1-3
    f.AppendPadded(3, 6000);  // seq 4-6: a page of it goes bad
    f.Append(2);              // seq 7-8
    f.Reopen();
    auto [begin, end] = PageOfBlock(f.config.storage.path, 4);
    vfs.SetReadFault(f.config.storage.path, fault, begin, end);
    // The first tries wait and try again: a read error may pass.
    CHECK(f.forwarder->Round() == 1'000);
    CHECK(f.queue->Stats().dead_letters == 0);
    f.Drain();
    CHECK(f.queue->Stats().records == 0);
    std::vector<std::string> keys;
    for (const Sent& s : f.uploader.sent) keys.push_back(s.key);
    CHECK(keys == std::vector<std::string>{f.Key(1, 3), f.Key(7, 8)});
    CHECK(f.metrics.records_delivered == 5);
    CHECK(f.metrics.records_dead_lettered.Snapshot()["unreadable_block"] == 3);
    auto dead = f.queue->ListDeadLetters(0, 10);
    REQUIRE(dead.ok());
    REQUIRE(dead->size() == 1);
    CHECK((*dead)[0].payload.empty());  // its bytes could not be read
    CHECK((*dead)[0].reason.starts_with("unreadable stored block"));
    CHECK((*dead)[0].reason.find("cannot be read") != std::string::npos);
    CHECK(f.forwarder->upstream_state() == UpstreamState::kOk);
    CHECK(f.state.QueueProblem(f.clock.WallMillis()).empty());
  }
}

// Finding 4 of issue 10, the rest of it: when the queue could not be read at all, the
// forwarder tried every second for ever and said so only in a repeated log line.
TEST_CASE(
    "regression issue 10 #4: a queue that cannot be read backs off from 1 s to 60 s, says so "
    "in /readyz and /status, and recovers by itself") {
  testing::FaultVfs vfs("fault-forwarder");
  Fixture f(vfs.name());
  f.config.status.listen = "127.0.0.1:0";
  f.metrics.mqtt_connected = 1;
  f.state.SetIntake("connected");
  agent::StatusServer server(
      f.config, *f.queue, f.metrics, f.state, f.clock,
      [](std::span<const int64_t>) -> platform::Result<agent::ReplayResult> {
        return platform::Status::Unavailable("not in this test");
      },
      [] { return platform::Status::Unavailable("not in this test"); });
  REQUIRE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  f.Append(3);
  vfs.SetLockError(true);  // every statement fails before it reads
  std::vector<int64_t> waits;
  for (int i = 0; i < 8; ++i) {
    waits.push_back(f.forwarder->Round());
    CHECK(f.forwarder->upstream_state() == UpstreamState::kStorageError);
    std::string why = f.state.QueueProblem(f.clock.WallMillis());
    CHECK(why.starts_with("queue unreadable: reading the queue: "));
    CHECK(why.ends_with("; delivery paused, retrying in " + std::to_string(waits.back() / 1000) +
                        " s"));
    f.clock.Advance(waits.back());
  }
  CHECK(waits == std::vector<int64_t>{1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 60'000, 60'000});
  CHECK(std::string(agent::UpstreamStateName(UpstreamState::kStorageError)) == "storage_error");
  CHECK(f.state.LastError().starts_with("reading the queue: "));
  CHECK(f.uploader.sent.empty());
  CHECK(f.queue->Stats().records == 3);
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->body.starts_with("queue unreadable: reading the queue: "));
  auto status = client.Get("/status");  // answers from the queue's counters, not its rows
  REQUIRE(status);
  CHECK(status->status == 200);
  auto json = nlohmann::json::parse(status->body, nullptr, false);
  CHECK(json["last_error"].get<std::string>().starts_with("reading the queue: "));

  vfs.SetLockError(false);
  CHECK(f.forwarder->Round() == 0);
  CHECK(f.uploader.sent.size() == 1);
  CHECK(f.queue->Stats().records == 0);
  CHECK(f.state.QueueProblem(f.clock.WallMillis()).empty());
  CHECK(f.forwarder->upstream_state() == UpstreamState::kOk);
  ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  server.Stop();
}

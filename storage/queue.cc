#include "storage/queue.h"

#include <ctime>

#include "platform/file.h"
#include "platform/log.h"
#include "storage/queue_internal.h"
#include "storage/schema.h"
#include "storage/zstd_codec.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

namespace {

constexpr int kEpochLength = 8;

std::string CorruptName(const std::string& path, int64_t wall_ms) {
  time_t t = static_cast<time_t>(wall_ms / 1000);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
  return path + ".corrupt-" + buf;
}

// Moves the database and its WAL/SHM files aside; returns the new name of the database.
Result<std::string> Quarantine(const std::string& path, int64_t wall_ms) {
  std::string target = CorruptName(path, wall_ms);
  FERRY_RETURN_IF_ERROR(platform::RenamePath(path, target));
  for (const char* suffix : {"-wal", "-shm"}) {
    if (platform::PathExists(path + suffix)) {
      FERRY_RETURN_IF_ERROR(platform::RenamePath(path + suffix, target + suffix));
    }
  }
  return target;
}

}  // namespace

Queue::Queue(QueueOptions options, platform::Clock& clock)
    : options_(std::move(options)), clock_(clock), codec_(std::make_unique<ZstdCodec>()) {}

Queue::~Queue() = default;

Result<std::unique_ptr<Queue>> Queue::Open(const QueueOptions& options, platform::Clock& clock,
                                           platform::Random& random) {
  FERRY_RETURN_IF_ERROR(platform::MakeDirs(platform::DirName(options.path)));
  std::unique_ptr<Queue> q(new Queue(options, clock));
  Status st = q->Init(random);
  if (st.code() != platform::Code::kCorruption) {
    if (!st.ok()) return st.WithContext("opening queue " + options.path);
    return q;
  }
  // The file is not a queue we can read: keep it for inspection, start a new one.
  platform::LogError("queue", "queue file unusable (" + st.message() + "); moving it aside");
  q.reset(new Queue(options, clock));
  Result<std::string> moved = Quarantine(options.path, clock.WallMillis());
  if (!moved.ok()) return moved.status().WithContext("quarantining corrupt queue");
  platform::LogError("queue", "corrupt queue moved to " + *moved + "; new queue started");
  q->quarantined_ = *moved;
  st = q->Init(random);
  if (!st.ok()) return st.WithContext("opening new queue " + options.path);
  return q;
}

Status Queue::Init(platform::Random& random) {
  Result<std::unique_ptr<Db>> db = Db::Open(options_.path);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  Result<int64_t> version = db_->QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version == 0) {
    Result<int64_t> tables = db_->QueryInt("SELECT count(*) FROM sqlite_master");
    if (!tables.ok()) return tables.status();
    if (*tables != 0) return Status::Corruption("tables present but no schema version");
    FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA auto_vacuum = INCREMENTAL"));
    FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA journal_mode = WAL"));
    epoch_ = platform::RandomToken(random, kEpochLength);
    std::string sql = std::string("BEGIN;") + kCreateSchema +
                      "INSERT INTO meta VALUES('epoch','" + epoch_ + "'),('created_ms','" +
                      std::to_string(clock_.WallMillis()) + "'),('acked_through','0');COMMIT;";
    FERRY_RETURN_IF_ERROR(db_->Exec(sql));
    platform::LogInfo("queue", "created queue " + options_.path + " with epoch " + epoch_);
  } else if (*version != kSchemaVersion) {
    return Status::Corruption("unknown schema version " + std::to_string(*version));
  }
  FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA journal_mode = WAL"));
  FERRY_RETURN_IF_ERROR(
      db_->Exec(options_.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  FERRY_RETURN_IF_ERROR(PrepareStatements());
  return LoadCounters();
}

Status Queue::PrepareStatements() {
  stmts_ = std::make_unique<Statements>();
  auto prep = [&](Stmt& s, const char* sql) -> Status {
    Result<Stmt> r = db_->Prepare(sql);
    if (!r.ok()) return r.status();
    s = std::move(*r);
    return Status::Ok();
  };
  Statements& s = *stmts_;
  FERRY_RETURN_IF_ERROR(prep(s.begin, "BEGIN"));
  FERRY_RETURN_IF_ERROR(prep(s.commit, "COMMIT"));
  FERRY_RETURN_IF_ERROR(prep(s.rollback, "ROLLBACK"));
  FERRY_RETURN_IF_ERROR(prep(s.insert_block, "INSERT INTO blocks VALUES(?,?,?,?,?,?)"));
  FERRY_RETURN_IF_ERROR(prep(s.insert_dead_letter,
      "INSERT INTO dead_letters(created_ms,received_ms,reason,topic,payload,seq) "
      "VALUES(?,?,?,?,?,?)"));
  FERRY_RETURN_IF_ERROR(prep(s.first_batch,
      "SELECT first_seq,last_seq,attempts FROM batches ORDER BY first_seq LIMIT 1"));
  FERRY_RETURN_IF_ERROR(prep(s.insert_batch, "INSERT INTO batches VALUES(?,?,0)"));
  FERRY_RETURN_IF_ERROR(prep(s.split_batch, "UPDATE batches SET last_seq=? WHERE first_seq=?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.attempt_batch, "UPDATE batches SET attempts=attempts+1 WHERE first_seq=?"));
  FERRY_RETURN_IF_ERROR(prep(s.delete_batch, "DELETE FROM batches WHERE first_seq=?"));
  FERRY_RETURN_IF_ERROR(prep(s.blocks_from,
      "SELECT first_seq,last_seq,raw_bytes FROM blocks WHERE last_seq>=? ORDER BY first_seq"));
  FERRY_RETURN_IF_ERROR(prep(s.blocks_in_range,
      "SELECT first_seq,last_seq,raw_bytes,data FROM blocks WHERE last_seq>=? AND first_seq<=? "
      "ORDER BY first_seq"));
  FERRY_RETURN_IF_ERROR(prep(s.removed_in_range,
      "SELECT seq FROM removed WHERE seq BETWEEN ? AND ? ORDER BY seq"));
  FERRY_RETURN_IF_ERROR(prep(s.insert_removed, "INSERT OR IGNORE INTO removed VALUES(?)"));
  FERRY_RETURN_IF_ERROR(prep(s.delete_blocks_through,
      "DELETE FROM blocks WHERE last_seq<=? RETURNING length(data),raw_bytes"));
  FERRY_RETURN_IF_ERROR(prep(s.delete_removed_through, "DELETE FROM removed WHERE seq<=?"));
  FERRY_RETURN_IF_ERROR(prep(s.set_meta, "INSERT OR REPLACE INTO meta VALUES(?,?)"));
  FERRY_RETURN_IF_ERROR(
      prep(s.oldest_block, "SELECT received_ms FROM blocks ORDER BY first_seq LIMIT 1"));
  FERRY_RETURN_IF_ERROR(prep(s.list_dead_letters,
      "SELECT id,created_ms,received_ms,reason,topic,payload,seq FROM dead_letters "
      "WHERE id>? ORDER BY id LIMIT ?"));
  return Status::Ok();
}

Status Queue::LoadCounters() {
  Result<Stmt> meta = db_->Prepare("SELECT key,value FROM meta");
  if (!meta.ok()) return meta.status();
  for (;;) {
    Result<bool> row = meta->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (meta->Text(0) == "epoch") epoch_ = std::string(meta->Text(1));
    if (meta->Text(0) == "acked_through") acked_through_ = std::stoull(std::string(meta->Text(1)));
  }
  if (epoch_.empty()) return Status::Corruption("queue has no epoch");
  // One row per block (a group commit), not per record: cheap even with millions queued.
  Result<Stmt> sums = db_->Prepare(
      "SELECT coalesce(max(last_seq),0), coalesce(sum(length(data)),0), "
      "coalesce(sum(raw_bytes),0) FROM blocks");
  if (!sums.ok()) return sums.status();
  Result<bool> row = sums->Step();
  if (!row.ok()) return row.status();
  uint64_t max_seq = static_cast<uint64_t>(sums->Int(0));
  stored_bytes_ = static_cast<uint64_t>(sums->Int(1));
  raw_bytes_ = static_cast<uint64_t>(sums->Int(2));
  next_seq_ = std::max(max_seq, acked_through_) + 1;
  Result<int64_t> removed = db_->QueryInt(
      ("SELECT count(*) FROM removed WHERE seq>" + std::to_string(acked_through_)).c_str());
  if (!removed.ok()) return removed.status();
  records_ = next_seq_ - 1 - acked_through_ - static_cast<uint64_t>(*removed);
  Result<int64_t> batched = db_->QueryInt("SELECT coalesce(max(last_seq),0) FROM batches");
  if (!batched.ok()) return batched.status();
  batched_through_ = std::max<uint64_t>(static_cast<uint64_t>(*batched), acked_through_);
  Result<int64_t> dead = db_->QueryInt("SELECT count(*) FROM dead_letters");
  if (!dead.ok()) return dead.status();
  dead_letters_ = static_cast<uint64_t>(*dead);
  Result<int64_t> oldest = db_->QueryInt("SELECT received_ms FROM blocks ORDER BY first_seq LIMIT 1");
  if (!oldest.ok()) return oldest.status();
  oldest_received_ms_ = *oldest;
  return Status::Ok();
}

Status Queue::Commit(std::string_view what) {
  Status st = stmts_->commit.Run();
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    return st.WithContext(what);
  }
  return Status::Ok();
}

uint64_t Queue::DiskBytes() {
  Result<int64_t> pages = db_->QueryInt("PRAGMA page_count");
  Result<int64_t> free_pages = db_->QueryInt("PRAGMA freelist_count");
  Result<int64_t> page_size = db_->QueryInt("PRAGMA page_size");
  if (!pages.ok() || !free_pages.ok() || !page_size.ok()) return 0;
  return static_cast<uint64_t>((*pages - *free_pages) * *page_size);
}

Status Queue::InsertDeadLetters(std::span<const DeadLetterInput> dead_letters) {
  int64_t now = clock_.WallMillis();
  for (const DeadLetterInput& d : dead_letters) {
    Stmt& s = stmts_->insert_dead_letter;
    s.Bind(1, now).Bind(2, d.received_ms).Bind(3, d.reason).Bind(4, d.topic);
    s.BindBlob(5, d.payload).BindNull(6);
    FERRY_RETURN_IF_ERROR(s.Run());
  }
  return Status::Ok();
}

Result<SeqRange> Queue::Append(const AppendRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  SeqRange range{next_seq_, next_seq_ + req.count - 1};
  block_.clear();
  if (req.count > 0) {
    if (stored_bytes_ + (2u << 20) > options_.max_bytes && DiskBytes() >= options_.max_bytes) {
      return Status::NoSpace("queue is at its quota of " + std::to_string(options_.max_bytes) +
                             " bytes");
    }
    scratch_.clear();
    req.encode(next_seq_, scratch_);
    FERRY_RETURN_IF_ERROR(codec_->Compress(scratch_, options_.compression_level, block_));
  }
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run().WithContext("begin append"));
  Status st;
  if (req.count > 0) {
    Stmt& s = stmts_->insert_block;
    s.Bind(1, static_cast<int64_t>(range.first)).Bind(2, static_cast<int64_t>(range.last));
    s.Bind(3, static_cast<int64_t>(scratch_.size())).Bind(4, req.oldest_received_ms);
    s.BindBlob(5, block_);
    if (req.acks.empty()) {
      s.BindNull(6);
    } else {
      s.BindBlob(6, req.acks);
    }
    st = s.Run();
  }
  if (st.ok()) st = InsertDeadLetters(req.dead_letters);
  if (st.ok()) st = Commit("commit append");
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    return st;
  }
  if (req.count > 0) {
    if (records_ == 0) oldest_received_ms_ = req.oldest_received_ms;
    next_seq_ += req.count;
    records_ += req.count;
    stored_bytes_ += block_.size();
    raw_bytes_ += scratch_.size();
  }
  dead_letters_ += req.dead_letters.size();
  return range;
}

Result<std::vector<std::string>> Queue::RecentAcks(size_t min_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = db_->Prepare(
      "SELECT acks FROM blocks WHERE acks IS NOT NULL ORDER BY first_seq DESC LIMIT 64");
  if (!stmt.ok()) return stmt.status();
  std::vector<std::string> out;
  size_t total = 0;
  while (total < min_bytes) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.emplace_back(stmt->Blob(0));
    total += out.back().size();
  }
  return out;
}

QueueStats Queue::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  QueueStats s;
  s.epoch = epoch_;
  s.records = records_;
  s.stored_bytes = stored_bytes_;
  s.raw_bytes = raw_bytes_;
  s.disk_bytes = DiskBytes();
  s.dead_letters = dead_letters_;
  s.oldest_received_ms = records_ > 0 ? oldest_received_ms_ : 0;
  s.next_seq = next_seq_;
  s.quarantined = quarantined_;
  return s;
}

}  // namespace ferry::storage

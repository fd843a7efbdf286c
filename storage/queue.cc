#include "storage/queue.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "platform/clock.h"
#include "platform/file.h"
#include "platform/log.h"
#include "storage/buffers.h"
#include "storage/queue_internal.h"
#include "storage/schema.h"
#include "storage/zstd_codec.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

namespace {

// A number in meta, written by std::to_string. kCorruption for anything else: a damaged value
// quarantines the file (FORMAT.md, "Recovery") instead of throwing out of Open.
Result<uint64_t> ParseMetaNumber(std::string_view key, std::string_view value) {
  uint64_t v = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec != std::errc() || ptr != end) {
    return Status::Corruption("meta " + std::string(key) + " unreadable: '" + std::string(value) +
                              "'");
  }
  return v;
}

std::string CorruptName(const std::string& path, int64_t wall_ms) {
  platform::CivilTime c = platform::ToUtcCivil(wall_ms / 1000);
  char buf[32];
  snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", c.year, c.month, c.day, c.hour, c.minute,
           c.second);
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
  Result<std::unique_ptr<Db>> db =
      Db::Open(options_.path, {.vfs = options_.vfs, .exclusive = options_.exclusive});
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  Result<int64_t> version = db_->QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version == 0) {
    Result<int64_t> tables = db_->QueryInt("SELECT count(*) FROM sqlite_master");
    if (!tables.ok()) return tables.status();
    if (*tables != 0) return Status::Corruption("tables present but no schema version");
    FERRY_RETURN_IF_ERROR(SetNewFilePageSize());
    FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA auto_vacuum = INCREMENTAL"));
    FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA journal_mode = WAL"));
    epoch_ = platform::RandomToken(random, kEpochLength);
    std::string sql = std::string("BEGIN;") + kCreateSchema + "INSERT INTO meta VALUES('epoch','" +
                      epoch_ + "'),('created_ms','" + std::to_string(clock_.WallMillis()) +
                      "'),('acked_through','0');COMMIT;";
    FERRY_RETURN_IF_ERROR(db_->Exec(sql));
    platform::LogInfo("queue", "created queue " + options_.path + " with epoch " + epoch_);
  } else if (*version != kSchemaVersion) {
    return Status::Corruption("unknown schema version " + std::to_string(*version));
  }
  FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA journal_mode = WAL"));
  FERRY_RETURN_IF_ERROR(db_->Exec(kCreateKeptAcks));
  FERRY_RETURN_IF_ERROR(db_->Exec(kCreateSparkplugMetrics));
  FERRY_RETURN_IF_ERROR(
      db_->Exec(options_.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  // Blocks are written once and read once: a page cache beyond the indexes buys nothing and
  // would be resident memory (SQLite's default is 2 MiB).
  FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA cache_size = -512"));
  // Debian builds SQLite with secure_delete on: every page a delivered block frees would be
  // zeroed, a second write of the records to the WAL and again at the checkpoint. FAST zeroes
  // deleted content only on pages written anyway; freed pages are not written at all.
  FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA secure_delete = FAST"));
  FERRY_RETURN_IF_ERROR(ApplyWritePolicy());
  FERRY_RETURN_IF_ERROR(PrepareStatements());
  FERRY_RETURN_IF_ERROR(LoadCounters());
  FERRY_RETURN_IF_ERROR(LoadEpochs());
  FERRY_RETURN_IF_ERROR(CountDeadLetterBytes());
  FERRY_RETURN_IF_ERROR(RecordBoot());
  return StartRun(random);
}

// Monotonic stamps restart with the machine: remember from which seq on they are this boot's.
Status Queue::RecordBoot() {
  Result<Stmt> get = db_->Prepare("SELECT value FROM meta WHERE key='boot_id'");
  if (!get.ok()) return get.status();
  Result<bool> row = get->Step();
  if (!row.ok()) return row.status();
  if (*row && get->Text(0) == options_.boot_id) {
    Result<Stmt> first = db_->Prepare("SELECT value FROM meta WHERE key='boot_first_seq'");
    if (!first.ok()) return first.status();
    Result<bool> r = first->Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
    Result<uint64_t> seq = ParseMetaNumber("boot_first_seq", first->Text(0));
    if (!seq.ok()) return seq.status();
    boot_first_seq_ = *seq;
    return Status::Ok();
  }
  boot_first_seq_ = c_.next_seq;
  return db_->Exec("INSERT OR REPLACE INTO meta VALUES('boot_id','" + options_.boot_id +
                   "'),('boot_first_seq','" + std::to_string(c_.next_seq) + "')");
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
  FERRY_RETURN_IF_ERROR(prep(s.insert_block, "INSERT INTO blocks VALUES(?,?,?,?,?,?,?)"));
  FERRY_RETURN_IF_ERROR(
      prep(s.insert_dead_letter,
           "INSERT INTO dead_letters(created_ms,received_ms,reason,topic,payload,seq) "
           "VALUES(?,?,?,?,?,?)"));
  FERRY_RETURN_IF_ERROR(
      prep(s.upsert_sparkplug_metric, "INSERT OR REPLACE INTO sparkplug_metrics VALUES(?,?,?,?)"));
  FERRY_RETURN_IF_ERROR(prep(s.first_batch,
                             "SELECT first_seq,last_seq,attempts FROM batches WHERE first_seq>? "
                             "ORDER BY first_seq LIMIT 1"));
  FERRY_RETURN_IF_ERROR(prep(s.insert_batch, "INSERT INTO batches VALUES(?,?,0)"));
  FERRY_RETURN_IF_ERROR(prep(s.split_batch, "UPDATE batches SET last_seq=? WHERE first_seq=?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.attempt_batch, "UPDATE batches SET attempts=attempts+1 WHERE first_seq=?"));
  FERRY_RETURN_IF_ERROR(prep(s.delete_batch, "DELETE FROM batches WHERE first_seq=?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.blocks_from,
           "SELECT first_seq,last_seq,raw_bytes FROM blocks WHERE last_seq>=? ORDER BY first_seq"));
  FERRY_RETURN_IF_ERROR(prep(
      s.blocks_in_range,
      "SELECT first_seq,last_seq,raw_bytes,data FROM blocks WHERE last_seq>=? AND first_seq<=? "
      "ORDER BY first_seq"));
  FERRY_RETURN_IF_ERROR(
      prep(s.block_keys_in_range,
           "SELECT first_seq,last_seq FROM blocks WHERE last_seq>=? AND first_seq<=? "
           "ORDER BY first_seq"));
  FERRY_RETURN_IF_ERROR(prep(s.block_data, "SELECT data FROM blocks WHERE first_seq=?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.removed_in_range, "SELECT seq FROM removed WHERE seq BETWEEN ? AND ? ORDER BY seq"));
  FERRY_RETURN_IF_ERROR(prep(s.insert_removed, "INSERT OR IGNORE INTO removed VALUES(?)"));
  FERRY_RETURN_IF_ERROR(prep(s.delete_blocks_through, "DELETE FROM blocks WHERE last_seq<=?"));
  FERRY_RETURN_IF_ERROR(prep(s.delivered_sums,
                             "SELECT coalesce(sum(length(data)),0),coalesce(sum(raw_bytes),0) "
                             "FROM blocks WHERE first_seq<=?2 AND last_seq>?1 AND last_seq<=?2"));
  FERRY_RETURN_IF_ERROR(
      prep(s.removed_between, "SELECT count(*) FROM removed WHERE seq>? AND seq<=?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.batches_before, "SELECT count(*) FROM batches WHERE first_seq>? AND first_seq<?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.keep_block_acks,
           "INSERT INTO kept_acks(first_seq,acks) SELECT first_seq,acks FROM blocks "
           "WHERE last_seq<=? AND first_seq>=? AND acks IS NOT NULL ORDER BY first_seq"));
  FERRY_RETURN_IF_ERROR(
      prep(s.keep_group_acks, "INSERT INTO kept_acks(first_seq,acks) VALUES(?,?)"));
  FERRY_RETURN_IF_ERROR(prep(s.prune_kept_acks, "DELETE FROM kept_acks WHERE first_seq<?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.cap_kept_acks, ("DELETE FROM kept_acks WHERE id<=(SELECT max(id) FROM kept_acks)-" +
                             std::to_string(kKeptAckRows))
                                .c_str()));
  FERRY_RETURN_IF_ERROR(prep(s.delete_removed_through, "DELETE FROM removed WHERE seq<=?"));
  FERRY_RETURN_IF_ERROR(prep(s.set_meta, "INSERT OR REPLACE INTO meta VALUES(?,?)"));
  FERRY_RETURN_IF_ERROR(
      prep(s.oldest_block_after,
           "SELECT received_ms FROM blocks WHERE last_seq>? ORDER BY first_seq LIMIT 1"));
  FERRY_RETURN_IF_ERROR(prep(
      s.get_dead_letter,
      "SELECT id,created_ms,received_ms,reason,topic,payload,seq FROM dead_letters WHERE id=?"));
  FERRY_RETURN_IF_ERROR(prep(s.delete_dead_letter, "DELETE FROM dead_letters WHERE id=?"));
  FERRY_RETURN_IF_ERROR(
      prep(s.head_blocks,
           "SELECT first_seq,last_seq,received_ms,received_mono_ms FROM blocks ORDER BY first_seq "
           "LIMIT 256"));
  FERRY_RETURN_IF_ERROR(
      prep(s.batch_covering, "SELECT coalesce(max(last_seq),0) FROM batches WHERE first_seq<=?"));
  FERRY_RETURN_IF_ERROR(prep(s.delete_batches_through, "DELETE FROM batches WHERE first_seq<=?"));
  FERRY_RETURN_IF_ERROR(prep(s.pragma_page_count, "PRAGMA page_count"));
  FERRY_RETURN_IF_ERROR(prep(s.pragma_freelist, "PRAGMA freelist_count"));
  FERRY_RETURN_IF_ERROR(
      prep(s.list_dead_letters,
           "SELECT id,created_ms,received_ms,reason,topic,payload,seq FROM dead_letters "
           "WHERE id>? ORDER BY id LIMIT ?"));
  return Status::Ok();
}

// Restores the counters from the snapshot in meta plus the few blocks and dead letters added
// after it: start-up time does not grow with the backlog.
Status Queue::LoadCounters() {
  Result<Stmt> meta = db_->Prepare("SELECT key,value FROM meta");
  if (!meta.ok()) return meta.status();
  uint64_t snap_seq = 1, snap_dl_id = 0;
  for (;;) {
    Result<bool> row = meta->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string key(meta->Text(0)), value(meta->Text(1));
    if (key == "epoch") epoch_ = value;
    if (key == "acked_through") {
      Result<uint64_t> acked = ParseMetaNumber(key, value);
      if (!acked.ok()) return acked.status();
      c_.acked_through = *acked;
    }
    if (key == "stats") {
      unsigned long long a = 1, b = 0, c = 0, d = 0, e = 0;
      if (sscanf(value.c_str(), "%llu %llu %llu %llu %llu", &a, &b, &c, &d, &e) != 5) {
        return Status::Corruption("meta stats unreadable: " + value);
      }
      snap_seq = a, c_.stored_bytes = b, c_.raw_bytes = c, snap_dl_id = d, c_.dead_letters = e;
    }
  }
  if (epoch_.empty()) return Status::Corruption("queue has no epoch");
  Result<Stmt> sums = db_->Prepare(
      "SELECT coalesce(max(last_seq),0), coalesce(sum(length(data)),0), "
      "coalesce(sum(raw_bytes),0) FROM blocks WHERE first_seq>=" +
      std::to_string(snap_seq));
  if (!sums.ok()) return sums.status();
  Result<bool> row = sums->Step();
  if (!row.ok()) return row.status();
  c_.stored_bytes += static_cast<uint64_t>(sums->Int(1));
  c_.raw_bytes += static_cast<uint64_t>(sums->Int(2));
  c_.next_seq = std::max({static_cast<uint64_t>(sums->Int(0)), c_.acked_through, snap_seq - 1}) + 1;
  Result<int64_t> removed =
      db_->QueryInt("SELECT count(*) FROM removed WHERE seq>" + std::to_string(c_.acked_through));
  if (!removed.ok()) return removed.status();
  c_.records = c_.next_seq - 1 - c_.acked_through - static_cast<uint64_t>(*removed);
  Result<int64_t> batched = db_->QueryInt("SELECT coalesce(max(last_seq),0) FROM batches");
  if (!batched.ok()) return batched.status();
  c_.batched_through = std::max<uint64_t>(static_cast<uint64_t>(*batched), c_.acked_through);
  Result<int64_t> dead =
      db_->QueryInt("SELECT count(*) FROM dead_letters WHERE id>" + std::to_string(snap_dl_id));
  if (!dead.ok()) return dead.status();
  c_.dead_letters += static_cast<uint64_t>(*dead);
  Result<int64_t> oldest =
      db_->QueryInt("SELECT received_ms FROM blocks ORDER BY first_seq LIMIT 1");
  if (!oldest.ok()) return oldest.status();
  c_.oldest_received_ms = *oldest;
  return LoadNewestGroups();
}

// The first seqs of the newest two groups (AckWindowStart): blocks by their primary key and
// groups without records from kept_acks, without reading any block's data.
Status Queue::LoadNewestGroups() {
  std::vector<uint64_t> seqs;
  for (const char* sql : {"SELECT first_seq FROM blocks ORDER BY first_seq DESC LIMIT 2",
                          "SELECT first_seq FROM kept_acks ORDER BY first_seq DESC LIMIT 2"}) {
    Result<Stmt> stmt = db_->Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      seqs.push_back(static_cast<uint64_t>(stmt->Int(0)));
    }
  }
  std::sort(seqs.rbegin(), seqs.rend());
  if (seqs.size() > 0) c_.newest_group_seq = seqs[0];
  if (seqs.size() > 1) c_.older_group_seq = seqs[1];
  return Status::Ok();
}

// Writes the counters as of now into meta, with the deletes they count; runs inside the
// caller's transaction.
Status Queue::WriteSnapshot() {
  FERRY_RETURN_IF_ERROR(DeletePendingRows());
  Result<int64_t> max_dl = db_->QueryInt("SELECT coalesce(max(id),0) FROM dead_letters");
  if (!max_dl.ok()) return max_dl.status();
  appends_since_snapshot_ = 0;
  std::string v = std::to_string(c_.next_seq) + " " + std::to_string(c_.stored_bytes) + " " +
                  std::to_string(c_.raw_bytes) + " " + std::to_string(*max_dl) + " " +
                  std::to_string(c_.dead_letters);
  return stmts_->set_meta.Bind(1, std::string_view("stats")).Bind(2, v).Run();
}

Status Queue::Commit(std::string_view what) {
  Status st = stmts_->commit.Run();
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    return st.WithContext(what);
  }
  return Status::Ok();
}

// Bytes in use inside the database file (free pages excluded). An error is returned, never
// taken for an empty file: the quota check must fail closed.
Result<uint64_t> Queue::UsedBytes() {
  auto pragma = [](Stmt& st) -> Result<int64_t> {
    Result<bool> row = st.Step();
    int64_t v = row.ok() && *row ? st.Int(0) : 0;
    st.Reset();
    if (!row.ok()) return row.status().WithContext("reading the queue's size");
    return v;
  };
  Result<int64_t> pages = pragma(stmts_->pragma_page_count);
  if (!pages.ok()) return pages.status();
  Result<int64_t> free_pages = pragma(stmts_->pragma_freelist);
  if (!free_pages.ok()) return free_pages.status();
  return static_cast<uint64_t>(std::max<int64_t>(0, *pages - *free_pages)) * page_size_;
}

// Whether `needed` more bytes would pass the quota (with the WAL's reserve).
Result<bool> Queue::OverQuota(uint64_t needed) {
  Result<uint64_t> used = UsedBytes();
  if (!used.ok()) return used.status();
  return *used + WalReserve() + needed > options_.max_bytes;
}

// The database file and its WAL as they stand on disk.
uint64_t Queue::DiskBytes() {
  Result<uint64_t> db = platform::FileSize(options_.path);
  Result<uint64_t> wal = platform::FileSize(options_.path + "-wal");
  return (db.ok() ? *db : 0) + (wal.ok() ? *wal : 0);
}

// Room kept for the WAL inside the quota; checkpoints keep the WAL file about this small.
uint64_t Queue::WalReserve() const {
  return std::clamp<uint64_t>(options_.max_bytes / 8, 256u << 10, 8u << 20);
}

void Queue::SetPolicy(uint64_t max_bytes, bool drop_oldest) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.max_bytes = max_bytes;
  options_.drop_oldest = drop_oldest;
}

uint64_t Queue::MaxGroupBytes(uint64_t max_bytes) {
  return std::max<uint64_t>(64u << 10, max_bytes / 8);
}

bool Queue::HasRoom(std::string* why) {
  std::lock_guard<std::mutex> lock(mu_);
  // Room for a group like the last one, but never for more than a group may hold: a refused
  // oversized group must not make the queue wait for room it can never have.
  uint64_t next = std::clamp<uint64_t>(last_needed_, 64u << 10, MaxGroupBytes(options_.max_bytes));
  if (DeadLettersFull(why)) return false;
  Result<bool> over = OverQuota(next);
  if (over.ok() && *over && c_.delete_pending_through != 0 && FlushDeletesNow().ok()) {
    over = OverQuota(next);
  }
  if (!over.ok()) {  // fail closed: intake waits rather than pass a quota it cannot check
    if (why) *why = over.status().ToString();
    return false;
  }
  if (!options_.drop_oldest && *over) {
    if (why) {
      *why = "queue is at storage.max_size (" + std::to_string(options_.max_bytes) +
             " bytes; dead letters hold " + std::to_string(c_.dead_letter_bytes) + ")";
    }
    return false;
  }
  // The filesystem needs room for the group and some WAL growth; SQLite's own ENOSPC is the
  // last word (the group is then refused and retried).
  Result<uint64_t> free_bytes = platform::FreeBytes(platform::DirName(options_.path));
  if (free_bytes.ok() && *free_bytes < next + (256u << 10)) {
    if (why) *why = "filesystem of " + options_.path + " is full";
    return false;
  }
  return true;
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

Result<AppendResult> Queue::Append(const AppendRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  // However it ends, a large group's buffers are not kept for the next one.
  struct TrimAfter {
    std::string& a;
    std::string& b;
    ~TrimAfter() { ClearAndTrim(a), ClearAndTrim(b); }
  } trim{scratch_, block_};
  AppendResult result;
  result.range = {c_.next_seq, c_.next_seq + req.count - 1};
  block_.clear();
  if (req.count > 0) {
    scratch_.clear();
    scratch_.reserve(req.encoded_size_hint);
    req.encode(c_.next_seq, scratch_);
    FERRY_RETURN_IF_ERROR(codec_->Compress(scratch_, options_.compression_level, block_));
  }
  uint64_t needed = block_.size() + 512 * (req.dead_letters.size() + 1);
  for (const DeadLetterInput& d : req.dead_letters) needed += d.payload.size() + d.topic.size();
  if (req.count > 0) last_needed_ = needed;
  Result<bool> over = OverQuota(needed);
  if (over.ok() && *over && c_.delete_pending_through != 0) {  // delivered records hold space
    FERRY_RETURN_IF_ERROR(FlushDeletesNow());
    over = OverQuota(needed);
  }
  if (!over.ok()) return over.status();
  if (*over && !options_.drop_oldest) {
    return Status::NoSpace("queue is at its quota (storage.max_size " +
                           std::to_string(options_.max_bytes) + " bytes)");
  }
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run().WithContext("begin append"));
  const Counters before = c_;
  Status st = FlushDeletes();  // the deletes of delivered batches ride along
  if (st.ok() && *over) {
    Result<uint64_t> dropped = MakeRoom(needed);
    if (dropped.ok()) result.dropped = *dropped;
    st = dropped.status();
  }
  if (st.ok() && req.count > 0) {
    Stmt& s = stmts_->insert_block;
    s.Bind(1, static_cast<int64_t>(result.range.first))
        .Bind(2, static_cast<int64_t>(result.range.last));
    s.Bind(3, static_cast<int64_t>(scratch_.size())).Bind(4, req.oldest_received_ms);
    s.Bind(5, req.oldest_received_mono_ms).BindBlob(6, block_);
    if (req.acks.empty()) {
      s.BindNull(7);
    } else {
      s.BindBlob(7, req.acks);
    }
    st = s.Run();
  } else if (st.ok() && !req.acks.empty()) {
    // No block to keep them with (only dead letters, or only ignored messages).
    // Such groups do not move the window (no sequence numbers): a count caps them instead.
    st = stmts_->keep_group_acks.Bind(1, static_cast<int64_t>(c_.next_seq))
             .BindBlob(2, req.acks)
             .Run();
    if (st.ok()) st = stmts_->cap_kept_acks.Run();
  }
  if (st.ok() && (req.count > 0 || !req.acks.empty())) {
    c_.older_group_seq = c_.newest_group_seq;
    c_.newest_group_seq = result.range.first;
  }
  if (st.ok()) st = InsertDeadLetters(req.dead_letters);
  if (st.ok()) st = InsertSparkplugMetrics(req.sparkplug_metrics);
  for (int64_t id : req.replayed_dead_letters) {
    if (st.ok()) st = stmts_->delete_dead_letter.Bind(1, id).Run();
  }
  c_.dead_letters = c_.dead_letters + req.dead_letters.size() - req.replayed_dead_letters.size();
  for (const DeadLetterInput& d : req.dead_letters) {
    c_.dead_letter_bytes += DeadLetterSize(d.payload.size(), d.topic.size(), d.reason.size());
  }
  if (st.ok() && !req.replayed_dead_letters.empty()) st = CountDeadLetterBytes();
  if (st.ok() && !req.dead_letters.empty()) st = TrimDeadLetters();
  if (req.count > 0) {
    if (c_.records == 0) c_.oldest_received_ms = req.oldest_received_ms;
    c_.next_seq += req.count;
    c_.records += req.count;
    c_.stored_bytes += block_.size();
    c_.raw_bytes += scratch_.size();
  }
  if (st.ok() && req.count > 0 && req.seal_batch) st = SealBatch(*req.seal_batch);
  if (st.ok() && (++appends_since_snapshot_ >= 64 || !req.replayed_dead_letters.empty())) {
    st = WriteSnapshot();
  }
  if (st.ok()) st = Commit("commit append");
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    c_ = before;  // nothing was stored
    return st;
  }
  if (result.dropped > 0) {
    // At the quota the file must shrink now, not at the next housekeeping: hand the dropped
    // pages back and fold the WAL into the database.
    Status shrink = db_->Exec("PRAGMA incremental_vacuum");
    if (shrink.ok()) shrink = db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!shrink.ok()) platform::LogWarn("queue", "shrinking after a drop: " + shrink.ToString());
  }
  return result;
}

// First sequence number of the window whose acks are kept.
uint64_t Queue::AckWindowStart() const {
  uint64_t by_seqs = c_.next_seq > kAckWindowSeqs ? c_.next_seq - kAckWindowSeqs : 0;
  uint64_t newest_two = c_.older_group_seq != 0 ? c_.older_group_seq : c_.newest_group_seq;
  return newest_two != 0 ? std::min(by_seqs, newest_two) : by_seqs;
}

Result<std::vector<std::string>> Queue::RecentAcks(size_t min_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  // Newest first: by first_seq, and a block after the groups without records that share its
  // first_seq (they were committed before it), those in the order they were kept.
  Result<Stmt> stmt = db_->Prepare(
      "SELECT acks FROM (SELECT first_seq, 9223372036854775807 AS id, acks FROM blocks "
      "WHERE first_seq>=?1 AND acks IS NOT NULL UNION ALL "
      "SELECT first_seq, id, acks FROM kept_acks WHERE first_seq>=?1) "
      "ORDER BY first_seq DESC, id DESC");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, static_cast<int64_t>(AckWindowStart()));
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

size_t Queue::BufferBytes() {
  std::lock_guard<std::mutex> lock(mu_);
  return scratch_.capacity() + block_.capacity() + codec_->BufferBytes();
}

QueueStats Queue::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  QueueStats s;
  s.epoch = epoch_;
  s.epoch_started_unclean = epoch_started_unclean_;
  s.records = c_.records;
  s.stored_bytes = c_.stored_bytes;
  s.raw_bytes = c_.raw_bytes;
  s.disk_bytes = DiskBytes();
  s.dead_letters = c_.dead_letters;
  s.oldest_received_ms = c_.records > 0 ? c_.oldest_received_ms : 0;
  s.next_seq = c_.next_seq;
  s.quarantined = quarantined_;
  s.max_bytes = options_.max_bytes;
  s.dead_letter_bytes = c_.dead_letter_bytes;
  s.dead_letter_max_bytes = DeadLetterLimit();
  s.dead_letters_block = options_.dead_letters_block;
  s.dead_letters_dropped = c_.dead_letters_dropped;
  return s;
}

}  // namespace ferry::storage

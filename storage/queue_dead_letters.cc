// The dead-letter store's own bound and policy, and purging (issue 10, finding 5: dead letters
// counted toward storage.max_size, but only records could be dropped to make room, so a store
// full of dead letters stopped intake for good).
#include <algorithm>

#include "platform/log.h"
#include "storage/queue.h"
#include "storage/queue_internal.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

namespace {

// One dead letter's DeadLetterSize(), in SQL: text lengths in bytes, blob lengths from the
// record header (no payload is read).
constexpr const char* kRowSize =
    "length(payload)+length(CAST(topic AS BLOB))+length(CAST(reason AS BLOB))+64";

// A warning per minute at most while dead letters are dropped at the bound.
constexpr int64_t kDropLogIntervalMs = 60'000;

}  // namespace

static_assert(Queue::kDeadLetterRowBytes == 64, "kRowSize adds the same row size");

Status Queue::CountDeadLetterBytes() {
  Result<int64_t> bytes =
      db_->QueryInt(std::string("SELECT coalesce(sum(") + kRowSize + "),0) FROM dead_letters");
  if (!bytes.ok()) return bytes.status();
  c_.dead_letter_bytes = static_cast<uint64_t>(*bytes);
  return Status::Ok();
}

uint64_t Queue::DeadLetterLimit() const {
  return options_.dead_letter_max_bytes > 0 ? options_.dead_letter_max_bytes
                                            : options_.max_bytes / 4;
}

bool Queue::DeadLettersFull(std::string* why) const {
  if (!options_.dead_letters_block || c_.dead_letter_bytes < DeadLetterLimit()) return false;
  if (why) {
    *why = "dead letters fill storage.dead_letters.max_size (" + std::to_string(c_.dead_letters) +
           " dead letters, " + std::to_string(c_.dead_letter_bytes) + " of " +
           std::to_string(DeadLetterLimit()) +
           " bytes; full_policy block): replay or purge them (ferry dead-letters replay|purge)";
  }
  return true;
}

// Under drop_oldest, drops the oldest dead letters until the store is within its bound. Inside
// the caller's transaction.
Status Queue::TrimDeadLetters() {
  uint64_t limit = DeadLetterLimit();
  if (options_.dead_letters_block || c_.dead_letter_bytes <= limit) return Status::Ok();
  Result<Stmt> oldest =
      db_->Prepare(std::string("SELECT id,") + kRowSize + " FROM dead_letters ORDER BY id");
  if (!oldest.ok()) return oldest.status();
  uint64_t bytes = c_.dead_letter_bytes, count = 0;
  int64_t through = 0;
  while (bytes > limit) {
    Result<bool> row = oldest->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    through = oldest->Int(0);
    bytes -= std::min<uint64_t>(bytes, static_cast<uint64_t>(oldest->Int(1)));
    ++count;
  }
  oldest->Reset();
  if (count == 0) return Status::Ok();
  Result<Stmt> del = db_->Prepare("DELETE FROM dead_letters WHERE id<=?");
  if (!del.ok()) return del.status();
  FERRY_RETURN_IF_ERROR(del->Bind(1, through).Run());
  c_.dead_letter_bytes = bytes;
  c_.dead_letters -= std::min(c_.dead_letters, count);
  c_.dead_letters_dropped += count;
  int64_t now = clock_.MonotonicMillis();
  if (dead_letter_drop_logged_ms_ < 0 || now - dead_letter_drop_logged_ms_ >= kDropLogIntervalMs) {
    dead_letter_drop_logged_ms_ = now;
    platform::LogWarn("queue", "dead letters at storage.dead_letters.max_size (" +
                                   std::to_string(limit) + " bytes): dropped the " +
                                   std::to_string(count) +
                                   " oldest (full_policy drop_oldest; counted in "
                                   "ferry_records_dropped_total{reason=\"dead_letter_quota\"})");
  }
  return WriteSnapshot();
}

Status Queue::SetDeadLetterPolicy(uint64_t max_bytes, bool block) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.dead_letter_max_bytes = max_bytes;
  options_.dead_letters_block = block;
  if (block || c_.dead_letter_bytes <= DeadLetterLimit()) return Status::Ok();
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run());
  const Counters before = c_;
  Status st = TrimDeadLetters();
  if (st.ok()) st = Commit("commit dead-letter trim");
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    c_ = before;
  }
  return st;
}

Result<uint64_t> Queue::PurgeDeadLetters(std::span<const int64_t> ids, bool all) {
  std::lock_guard<std::mutex> lock(mu_);
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run().WithContext("begin purge"));
  const Counters before = c_;
  Status st;
  uint64_t purged = 0;
  if (all) {
    st = db_->Exec("DELETE FROM dead_letters");
    if (st.ok()) purged = static_cast<uint64_t>(sqlite3_changes(db_->raw()));
  } else {
    for (int64_t id : ids) {
      if (!st.ok()) break;
      st = stmts_->delete_dead_letter.Bind(1, id).Run();
      if (st.ok()) purged += static_cast<uint64_t>(sqlite3_changes(db_->raw()));
    }
  }
  if (st.ok()) {
    c_.dead_letters -= std::min(c_.dead_letters, purged);
    st = CountDeadLetterBytes();
  }
  if (st.ok()) st = WriteSnapshot();
  if (st.ok()) st = Commit("commit purge");
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    c_ = before;
    return st;
  }
  return purged;
}

}  // namespace ferry::storage

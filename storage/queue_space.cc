// The queue under pressure: the quota with its drop_oldest policy, expiry, and giving free
// pages back to the filesystem.
#include <algorithm>

#include "platform/log.h"
#include "storage/queue.h"
#include "storage/queue_internal.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

namespace {
// Wall-clock stamps before 2000-01-01 come from a clock that was never set.
constexpr int64_t kWallClockSetMs = 946'684'800'000;
}  // namespace

// Drops the head of the queue through `through_seq`, widened to the end of any batch that
// straddles it, so a batch is never sent again with fewer records under the same key.
// Inside the caller's transaction.
Status Queue::DropHead(uint64_t through_seq, uint64_t* dropped) {
  Stmt& cover = stmts_->batch_covering;
  cover.Bind(1, static_cast<int64_t>(through_seq));
  Result<bool> row = cover.Step();
  uint64_t batch_end = row.ok() && *row ? static_cast<uint64_t>(cover.Int(0)) : 0;
  cover.Reset();
  if (!row.ok()) return row.status();
  uint64_t records_before = c_.records;
  FERRY_RETURN_IF_ERROR(DeleteThrough(std::max(through_seq, batch_end)));
  *dropped += records_before - c_.records;
  return Status::Ok();
}

// Drops the oldest blocks until `needed` more bytes fit under the quota. Inside the caller's
// transaction. kNoSpace when even an empty queue has no room.
Result<uint64_t> Queue::MakeRoom(uint64_t needed) {
  uint64_t dropped = 0;
  for (;;) {
    Result<bool> over = OverQuota(needed);
    if (!over.ok()) return over.status();
    if (!*over) break;
    Stmt& head = stmts_->head_blocks;
    Result<bool> row = head.Step();
    uint64_t last = row.ok() && *row ? static_cast<uint64_t>(head.Int(1)) : 0;
    head.Reset();
    if (!row.ok()) return row.status();
    if (last == 0) return Status::NoSpace("a single group does not fit in storage.max_size");
    FERRY_RETURN_IF_ERROR(DropHead(last, &dropped));
  }
  if (dropped > 0) {
    platform::LogWarn("queue", "quota reached: dropped the " + std::to_string(dropped) +
                                   " oldest records (storage.full_policy drop_oldest)");
  }
  return dropped;
}

Result<uint64_t> Queue::Expire(int64_t max_age_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t wall = clock_.WallMillis(), mono = clock_.MonotonicMillis();
  uint64_t through = 0;
  Stmt& head = stmts_->head_blocks;
  for (;;) {
    Result<bool> row = head.Step();
    if (!row.ok()) {
      head.Reset();
      return row.status();
    }
    if (!*row) break;
    uint64_t first = static_cast<uint64_t>(head.Int(0));
    int64_t stamp = head.Int(2), stamp_mono = head.Int(3);
    int64_t age =
        first >= boot_first_seq_ ? mono - stamp_mono : (stamp < kWallClockSetMs ? 0 : wall - stamp);
    if (age <= max_age_ms) break;
    through = static_cast<uint64_t>(head.Int(1));
  }
  head.Reset();
  if (through == 0) return uint64_t{0};
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run());
  const Counters before = c_;
  uint64_t dropped = 0;
  Status st = DropHead(through, &dropped);
  if (st.ok()) st = Commit("commit expiry");
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    c_ = before;
    return st;
  }
  return dropped;
}

Status Queue::GiveBackSpace() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<int64_t> pages = db_->QueryInt("PRAGMA page_count");
  Result<int64_t> free_pages = db_->QueryInt("PRAGMA freelist_count");
  if (!pages.ok()) return pages.status();
  if (!free_pages.ok()) return free_pages.status();
  // Vacuuming rewrites pages: only when a good share of the file is free.
  if (*free_pages < std::max<int64_t>(256, *pages / 4)) return Status::Ok();
  return db_->Exec("PRAGMA incremental_vacuum(" + std::to_string(*free_pages) + ")");
}

}  // namespace ferry::storage

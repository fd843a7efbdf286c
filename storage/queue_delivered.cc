// What the queue writes to flash, and when: the page size and checkpoint policy of the file,
// and the deletes of delivered batches, which wait for the next write transaction instead of
// making a commit (and an fsync) of their own. FORMAT.md, "Flash writes", says why that is safe.
#include <algorithm>

#include "platform/log.h"
#include "storage/queue.h"
#include "storage/queue_internal.h"
#include "storage/schema.h"
#include "storage/zstd_codec.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

// A new file only (before its first table): an existing file keeps the page size it was made
// with, since changing it needs a VACUUM that rewrites the whole file outside WAL mode.
Status Queue::SetNewFilePageSize() {
  return db_->Exec("PRAGMA page_size = " + std::to_string(kNewFilePageSize));
}

Queue::~Queue() {
  if (!stmts_) return;
  Status st = FlushDeletesNow();  // else a restart would send the last batch once more
  if (!st.ok()) platform::LogWarn("queue", "closing: " + st.ToString());
  EndRun();  // last: its synced commit makes every commit before it durable
}

Status Queue::ApplyWritePolicy() {
  Result<int64_t> page_size = db_->QueryInt("PRAGMA page_size");
  if (!page_size.ok()) return page_size.status();
  page_size_ = static_cast<uint64_t>(std::max<int64_t>(512, *page_size));
  // The WAL may grow to its reserve (inside the quota) before a checkpoint copies its pages
  // into the database: the larger it is, the more commits a page of the database is rewritten
  // by in the WAL for each time it is written to the database.
  int64_t reserve_pages = static_cast<int64_t>(WalReserve() / page_size_);
  FERRY_RETURN_IF_ERROR(db_->Exec("PRAGMA journal_size_limit = " + std::to_string(WalReserve())));
  return db_->Exec("PRAGMA wal_autocheckpoint = " +
                   std::to_string(std::max<int64_t>(16, reserve_pages / 2)));
}

// Batches are delivered in order; finishing one with an older one pending would lose records.
Status Queue::CheckInOrder(uint64_t first_seq) {
  Stmt& s = stmts_->batches_before;
  Result<bool> row = s.Bind(1, static_cast<int64_t>(c_.acked_through))
                         .Bind(2, static_cast<int64_t>(first_seq))
                         .Step();
  int64_t lower = row.ok() && *row ? s.Int(0) : 0;
  s.Reset();
  if (!row.ok()) return row.status();
  if (lower > 0) return Status::InvalidArgument("batch finished out of order");
  return Status::Ok();
}

// The counters as if every record through last_seq had left the queue; only reads.
Status Queue::CountDelivered(uint64_t last_seq) {
  if (last_seq <= c_.acked_through) return Status::Ok();
  const int64_t from = static_cast<int64_t>(c_.acked_through), to = static_cast<int64_t>(last_seq);
  Stmt& sums = stmts_->delivered_sums;
  Result<bool> row = sums.Bind(1, from).Bind(2, to).Step();
  uint64_t freed = row.ok() && *row ? static_cast<uint64_t>(sums.Int(0)) : 0;
  uint64_t freed_raw = row.ok() && *row ? static_cast<uint64_t>(sums.Int(1)) : 0;
  sums.Reset();
  if (!row.ok()) return row.status();
  Stmt& removed = stmts_->removed_between;
  row = removed.Bind(1, from).Bind(2, to).Step();
  uint64_t gone = row.ok() && *row ? static_cast<uint64_t>(removed.Int(0)) : 0;
  removed.Reset();
  if (!row.ok()) return row.status();
  Stmt& oldest = stmts_->oldest_block_after;
  row = oldest.Bind(1, to).Step();
  int64_t oldest_ms = row.ok() && *row ? oldest.Int(0) : 0;
  oldest.Reset();
  if (!row.ok()) return row.status();
  c_.stored_bytes -= std::min(c_.stored_bytes, freed);
  c_.raw_bytes -= std::min(c_.raw_bytes, freed_raw);
  c_.records -= std::min<uint64_t>(c_.records, last_seq - c_.acked_through - gone);
  c_.acked_through = last_seq;
  c_.batched_through = std::max(c_.batched_through, c_.acked_through);
  c_.oldest_received_ms = oldest_ms;
  return Status::Ok();
}

// Deletes the rows of every record through last_seq, keeping the acks of recent blocks.
// Inside the caller's transaction.
Status Queue::DeleteRows(uint64_t last_seq) {
  const int64_t through = static_cast<int64_t>(last_seq);
  FERRY_RETURN_IF_ERROR(KeepDeliveredAcks(last_seq));
  FERRY_RETURN_IF_ERROR(stmts_->delete_blocks_through.Bind(1, through).Run());
  FERRY_RETURN_IF_ERROR(stmts_->delete_removed_through.Bind(1, through).Run());
  FERRY_RETURN_IF_ERROR(stmts_->delete_batches_through.Bind(1, through).Run());
  FERRY_RETURN_IF_ERROR(PruneEpochs(last_seq));
  return stmts_->set_meta.Bind(1, std::string_view("acked_through"))
      .Bind(2, std::to_string(last_seq))
      .Run();
}

// The rows of the deletes that delivered batches left pending; WriteSnapshot calls it, so the
// counters snapshot is never written without the deletes it counts.
Status Queue::DeletePendingRows() {
  if (c_.delete_pending_through == 0) return Status::Ok();
  FERRY_RETURN_IF_ERROR(DeleteRows(c_.delete_pending_through));
  c_.delete_pending_through = 0;
  return Status::Ok();
}

// Writes the pending deletes and the counters that count them. Inside the caller's
// transaction; the caller restores c_ (and so the pending mark) if it rolls back.
Status Queue::FlushDeletes() {
  if (c_.delete_pending_through == 0) return Status::Ok();
  return WriteSnapshot();
}

// The same in a transaction of its own: for the quota (the space is needed now) and at close.
Status Queue::FlushDeletesNow() {
  if (c_.delete_pending_through == 0) return Status::Ok();
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run().WithContext("begin delete"));
  const Counters before = c_;
  Status st = FlushDeletes();
  if (st.ok()) st = Commit("commit delete of delivered records");
  if (!st.ok()) c_ = before;
  return st;
}

// Removes every record with seq <= last_seq now (dead-lettering, expiry, the quota), with any
// delete still pending. Inside the caller's transaction; the caller restores c_ on rollback.
Status Queue::DeleteThrough(uint64_t last_seq) {
  if (last_seq <= c_.acked_through && c_.delete_pending_through == 0) return Status::Ok();
  FERRY_RETURN_IF_ERROR(CountDelivered(last_seq));
  c_.delete_pending_through = std::max(c_.delete_pending_through, last_seq);
  return WriteSnapshot();  // flushes
}

Status Queue::Ack(uint64_t first_seq, uint64_t last_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  FERRY_RETURN_IF_ERROR(CheckInOrder(first_seq));
  if (last_seq <= c_.acked_through) return Status::Ok();
  const Counters before = c_;
  Status st = CountDelivered(last_seq);
  if (!st.ok()) {
    c_ = before;
    return st;
  }
  c_.delete_pending_through = last_seq;
  return Status::Ok();
}

Status Queue::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  return FlushDeletesNow();
}

}  // namespace ferry::storage

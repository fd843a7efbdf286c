// Batch boundaries, acknowledgement and dead-lettering of queued records.
#include <algorithm>

#include "storage/queue.h"
#include "storage/queue_internal.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

namespace {

// A dead letter from a row of "SELECT id,created_ms,received_ms,reason,topic,payload,seq".
DeadLetter ReadDeadLetter(const Stmt& s) {
  DeadLetter d;
  d.id = s.Int(0);
  d.created_ms = s.Int(1);
  d.received_ms = s.Int(2);
  d.reason = s.Text(3);
  d.topic = s.Text(4);
  d.payload = s.Blob(5);
  if (!s.IsNull(6)) d.seq = static_cast<uint64_t>(s.Int(6));
  return d;
}

}  // namespace

Result<std::optional<BatchPlan>> Queue::NextBatch(const BatchLimits& limits) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt& first = stmts_->first_batch;  // delivered batches may wait for their delete
  Result<bool> row = first.Bind(1, static_cast<int64_t>(c_.acked_through)).Step();
  if (!row.ok()) return row.status();
  if (*row) {
    uint64_t a = static_cast<uint64_t>(first.Int(0)), b = static_cast<uint64_t>(first.Int(1));
    uint32_t attempts = static_cast<uint32_t>(first.Int(2));
    first.Reset();
    return LoadBatch(a, b, attempts);
  }
  first.Reset();
  Result<std::optional<std::pair<uint64_t, uint64_t>>> formed = FormBatch(limits);
  if (!formed.ok()) return formed.status();
  if (!formed->has_value()) return std::optional<BatchPlan>();
  auto [a, b] = **formed;
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run().WithContext("begin batch"));
  const Counters before = c_;
  Status st = FlushDeletes();  // the previous batch's delete rides along
  if (st.ok()) {
    st = stmts_->insert_batch.Bind(1, static_cast<int64_t>(a))
             .Bind(2, static_cast<int64_t>(b))
             .Run();
  }
  if (st.ok()) st = Commit("commit batch");
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    c_ = before;
    return st;
  }
  c_.batched_through = b;
  return LoadBatch(a, b, 0);
}

// Inside Append's transaction (AppendRequest::seal_batch); the caller restores c_ on rollback.
Status Queue::SealBatch(BatchLimits limits) {
  if (c_.batched_through > c_.acked_through) return Status::Ok();  // one waits to be sent
  limits.allow_partial = true;
  Result<std::optional<std::pair<uint64_t, uint64_t>>> formed = FormBatch(limits);
  if (!formed.ok()) return formed.status();
  if (!formed->has_value()) return Status::Ok();
  auto [a, b] = **formed;
  FERRY_RETURN_IF_ERROR(
      stmts_->insert_batch.Bind(1, static_cast<int64_t>(a)).Bind(2, static_cast<int64_t>(b)).Run());
  c_.batched_through = b;
  return Status::Ok();
}

// Chooses the range of the next batch: the oldest records not in a batch yet, up to the limits
// and never past the end of their epoch (the batch's key names one). It ends on a block boundary
// whenever it can, so whole stored blocks go on the wire unchanged; only a first block larger
// than the limits is cut. An epoch begins with a block, so its end is a block boundary.
Result<std::optional<std::pair<uint64_t, uint64_t>>> Queue::FormBatch(const BatchLimits& limits) {
  using Range = std::optional<std::pair<uint64_t, uint64_t>>;
  uint64_t start = c_.batched_through + 1;
  if (start >= c_.next_seq) return Range();
  const uint64_t epoch_last = EpochLastSeq(start);
  Stmt& s = stmts_->blocks_from;
  s.Bind(1, static_cast<int64_t>(start));
  uint64_t end = start - 1, records = 0, raw = 0;
  bool full = false;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row.ok()) {
      s.Reset();
      return row.status();
    }
    if (!*row) break;
    uint64_t bf = std::max<uint64_t>(static_cast<uint64_t>(s.Int(0)), start);
    if (bf > epoch_last) {
      full = true;  // the rest of an earlier epoch goes as it is: it will not grow
      break;
    }
    uint64_t bl = std::min<uint64_t>(static_cast<uint64_t>(s.Int(1)), epoch_last);
    uint64_t block_records = static_cast<uint64_t>(s.Int(1) - s.Int(0) + 1);
    uint64_t per_record = std::max<uint64_t>(1, static_cast<uint64_t>(s.Int(2)) / block_records);
    uint64_t take = bl - bf + 1;
    bool fits =
        records + take <= limits.max_records && raw + take * per_record <= limits.max_raw_bytes;
    if (!fits && records > 0) {
      full = true;  // end the batch at the previous block's end
      break;
    }
    if (!fits) {  // a first block larger than a batch: cut it
      take = std::min<uint64_t>(take, limits.max_records);
      take = std::max<uint64_t>(1, std::min(take, limits.max_raw_bytes / per_record));
      full = true;
    }
    end = bf + take - 1;
    records += take;
    raw += take * per_record;
    if (full || records >= limits.max_records) {
      full = true;
      break;
    }
  }
  s.Reset();
  if (records == 0 || (!full && !limits.allow_partial)) return Range();
  return Range(std::make_pair(start, end));
}

Result<std::optional<BatchPlan>> Queue::LoadBatch(uint64_t first, uint64_t last,
                                                  uint32_t attempts) {
  BatchPlan plan;
  plan.first_seq = first;
  plan.last_seq = last;
  plan.attempts = attempts;
  plan.epoch = EpochOf(first);
  Status st = ReadBlocks(first, last, &plan.blocks);
  if (!st.ok()) {
    plan.blocks.clear();
    FERRY_RETURN_IF_ERROR(ReadBlocksApart(first, last, st, &plan.blocks));
  }
  Stmt& r = stmts_->removed_in_range;
  r.Bind(1, static_cast<int64_t>(first)).Bind(2, static_cast<int64_t>(last));
  for (;;) {
    Result<bool> row = r.Step();
    if (!row.ok()) {
      r.Reset();
      return row.status();
    }
    if (!*row) break;
    plan.removed.push_back(static_cast<uint64_t>(r.Int(0)));
  }
  r.Reset();
  return std::optional<BatchPlan>(std::move(plan));
}

// The blocks overlapping [first, last] with their data, in one query (the usual way).
Status Queue::ReadBlocks(uint64_t first, uint64_t last, std::vector<BatchPlan::Block>* out) {
  Stmt& s = stmts_->blocks_in_range;
  s.Bind(1, static_cast<int64_t>(first)).Bind(2, static_cast<int64_t>(last));
  for (;;) {
    Result<bool> row = s.Step();
    if (!row.ok()) {
      s.Reset();
      return row.status();
    }
    if (!*row) break;
    out->push_back({static_cast<uint64_t>(s.Int(0)), static_cast<uint64_t>(s.Int(1)),
                    std::string(s.Blob(3)), Status::Ok()});
  }
  s.Reset();
  return Status::Ok();
}

// After ReadBlocks failed with `error`: the rows are listed without their data, then each
// block's data is read on its own, so that a block whose bytes do not read is kept with its
// read_error and the others are not held back by it. Returns the queue's error (nothing tied
// to one block) when the rows cannot be listed, a lock is refused, or no block of several reads.
Status Queue::ReadBlocksApart(uint64_t first, uint64_t last, const Status& error,
                              std::vector<BatchPlan::Block>* out) {
  Stmt& k = stmts_->block_keys_in_range;
  k.Bind(1, static_cast<int64_t>(first)).Bind(2, static_cast<int64_t>(last));
  for (;;) {
    Result<bool> row = k.Step();
    if (!row.ok()) {
      k.Reset();
      return row.status();
    }
    if (!*row) break;
    out->push_back(
        {static_cast<uint64_t>(k.Int(0)), static_cast<uint64_t>(k.Int(1)), {}, Status::Ok()});
  }
  k.Reset();
  size_t unreadable = 0;
  for (BatchPlan::Block& block : *out) {
    Stmt& d = stmts_->block_data;
    Result<bool> row = d.Bind(1, static_cast<int64_t>(block.first_seq)).Step();
    if (row.ok() && *row) {
      block.data = std::string(d.Blob(0));
    } else {
      block.read_error = row.ok() ? Status::Corruption("its row is gone") : row.status();
      ++unreadable;
    }
    d.Reset();
    if (block.read_error.code() == platform::Code::kUnavailable) return block.read_error;
  }
  if (out->empty() || (unreadable == out->size() && out->size() > 1)) return error;
  return Status::Ok();
}

// A block's PUBACKs go out right after its commit, but they can still be lost (a crash with
// them unread in the broker's socket), and the forwarder may deliver the block first. The
// broker then sends those messages again, so their acks must outlive the block: the acks of the
// blocks about to be deleted that lie in the window are kept, older kept acks pruned.
Status Queue::KeepDeliveredAcks(uint64_t last_seq) {
  int64_t window = static_cast<int64_t>(AckWindowStart());
  FERRY_RETURN_IF_ERROR(
      stmts_->keep_block_acks.Bind(1, static_cast<int64_t>(last_seq)).Bind(2, window).Run());
  return stmts_->prune_kept_acks.Bind(1, window).Run();
}

// Removes the batch and every record through last_seq in one transaction, inserting `dead`
// first when the records are being dead-lettered. Caller holds mu_.
Status Queue::FinishBatch(uint64_t first_seq, uint64_t last_seq,
                          std::span<const std::string_view> dead, std::string_view reason) {
  FERRY_RETURN_IF_ERROR(CheckInOrder(first_seq));
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run());
  const Counters before = c_;
  Status st;
  int64_t now = clock_.WallMillis();
  for (std::string_view line : dead) {
    if (!st.ok()) break;
    Stmt& s = stmts_->insert_dead_letter;
    s.Bind(1, now).Bind(2, now).Bind(3, reason).Bind(4, std::string_view("")).BindBlob(5, line);
    if (first_seq == last_seq) {
      s.Bind(6, static_cast<int64_t>(first_seq));
    } else {
      s.BindNull(6);
    }
    st = s.Run();
  }
  c_.dead_letters += dead.size();
  for (std::string_view line : dead) {
    c_.dead_letter_bytes += DeadLetterSize(line.size(), 0, reason.size());
  }
  if (st.ok()) st = TrimDeadLetters();
  if (st.ok()) st = stmts_->delete_batch.Bind(1, static_cast<int64_t>(first_seq)).Run();
  if (st.ok()) st = DeleteThrough(last_seq);
  if (st.ok()) st = Commit("commit batch removal");
  if (!st.ok()) {
    (void)stmts_->rollback.Run();
    c_ = before;
  }
  return st;
}

Status Queue::NoteAttempt(uint64_t first_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  return stmts_->attempt_batch.Bind(1, static_cast<int64_t>(first_seq)).Run();
}

Status Queue::SplitBatch(uint64_t first_seq, uint64_t last_seq) {
  if (first_seq >= last_seq) return Status::InvalidArgument("a one-record batch cannot be split");
  return SplitBatchAt(first_seq, last_seq, first_seq + (last_seq - first_seq) / 2 + 1);
}

Status Queue::SplitBatchAt(uint64_t first_seq, uint64_t last_seq, uint64_t at) {
  if (at <= first_seq || at > last_seq) {
    return Status::InvalidArgument("a batch is split inside its range");
  }
  std::lock_guard<std::mutex> lock(mu_);
  FERRY_RETURN_IF_ERROR(stmts_->begin.Run());
  Status st = stmts_->split_batch.Bind(1, static_cast<int64_t>(at - 1))
                  .Bind(2, static_cast<int64_t>(first_seq))
                  .Run();
  if (st.ok()) {
    st = stmts_->insert_batch.Bind(1, static_cast<int64_t>(at))
             .Bind(2, static_cast<int64_t>(last_seq))
             .Run();
  }
  if (st.ok()) st = Commit("commit split");
  if (!st.ok()) (void)stmts_->rollback.Run();
  return st;
}

Status Queue::DeadLetterBatch(uint64_t first_seq, uint64_t last_seq, std::string_view reason,
                              std::string_view lines) {
  std::vector<std::string_view> dead;
  while (!lines.empty()) {
    size_t nl = lines.find('\n');
    dead.push_back(lines.substr(0, nl));
    lines.remove_prefix(nl == std::string_view::npos ? lines.size() : nl + 1);
  }
  std::lock_guard<std::mutex> lock(mu_);
  // The records now live in the dead letters: they leave the queue like delivered ones.
  return FinishBatch(first_seq, last_seq, dead, reason);
}

Result<uint64_t> Queue::DeadLetterUnreadableBatch(uint64_t first_seq, uint64_t last_seq,
                                                  std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::optional<BatchPlan>> plan = LoadBatch(first_seq, last_seq, 0);
  std::vector<std::string> raw;
  std::string why(reason);
  uint64_t removed = 0;
  bool lost = true;  // bytes of the range that cannot be read
  if (plan.ok() && plan->has_value()) {
    lost = false;
    for (BatchPlan::Block& block : (*plan)->blocks) {
      // A block cut by an earlier batch went to the dead letters with that batch.
      raw.push_back(block.first_seq < first_seq ? std::string() : std::move(block.data));
      lost = lost || !block.read_error.ok();
    }
    if (lost) why += " (its stored bytes cannot be read: none are kept)";
    removed = (*plan)->removed.size();
  } else {
    why += " (the stored rows cannot be read either: " +
           (plan.ok() ? std::string("none found") : plan.status().ToString()) + ")";
  }
  if (raw.empty()) raw.emplace_back();
  std::vector<std::string_view> dead(raw.begin(), raw.end());
  // Deleting the rows must not need the bytes that do not read: SQLite's secure_delete (on in
  // Debian's build) reads each freed page to overwrite it, so it is off for this transaction.
  Result<int64_t> secure = db_->QueryInt("PRAGMA secure_delete");
  bool off = lost && secure.ok() && *secure != 0 && db_->Exec("PRAGMA secure_delete=0").ok();
  Status st = FinishBatch(first_seq, last_seq, dead, why);
  if (off) (void)db_->Exec("PRAGMA secure_delete=" + std::to_string(*secure));
  FERRY_RETURN_IF_ERROR(st);
  return last_seq - first_seq + 1 - std::min(removed, last_seq - first_seq + 1);
}

Result<std::vector<DeadLetter>> Queue::ListDeadLetters(int64_t after_id, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DeadLetter> out;
  Stmt& s = stmts_->list_dead_letters;
  s.Bind(1, after_id).Bind(2, limit);
  for (;;) {
    Result<bool> row = s.Step();
    if (!row.ok()) {
      s.Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back(ReadDeadLetter(s));
  }
  s.Reset();
  return out;
}

Result<std::vector<DeadLetter>> Queue::GetDeadLetters(std::span<const int64_t> ids) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DeadLetter> out;
  Stmt& s = stmts_->get_dead_letter;
  for (int64_t id : ids) {
    s.Bind(1, id);
    Result<bool> row = s.Step();
    if (!row.ok()) {
      s.Reset();
      return row.status();
    }
    if (*row) {
      out.push_back(ReadDeadLetter(s));
    }
    s.Reset();
  }
  return out;
}

}  // namespace ferry::storage

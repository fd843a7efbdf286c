// Queue::Peek: the oldest queued records as NDJSON lines, for `ferry queue peek` (issue 14).
#include <algorithm>

#include "storage/batch_assembler.h"
#include "storage/queue.h"
#include "storage/queue_internal.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

Result<QueuePeek> Queue::Peek(size_t limit) {
  QueuePeek peek;
  BatchPlan plan;
  {
    std::lock_guard<std::mutex> lock(mu_);
    peek.queued = c_.records;
    if (limit == 0 || c_.records == 0) return peek;
    plan.first_seq = c_.acked_through + 1;
    // The oldest blocks until they hold `limit` records that were not removed.
    Stmt& s = stmts_->blocks_in_range;
    s.Bind(1, static_cast<int64_t>(plan.first_seq)).Bind(2, static_cast<int64_t>(c_.next_seq));
    uint64_t records = 0;
    Status st = Status::Ok();
    while (st.ok() && records < limit) {
      Result<bool> row = s.Step();
      if (!row.ok() || !*row) {
        st = row.ok() ? Status::Ok() : row.status();
        break;
      }
      BatchPlan::Block b{static_cast<uint64_t>(s.Int(0)), static_cast<uint64_t>(s.Int(1)),
                         std::string(s.Blob(3)), Status::Ok()};
      uint64_t from = std::max(b.first_seq, plan.first_seq);
      Stmt& gone = stmts_->removed_between;
      Result<bool> counted = gone.Bind(1, static_cast<int64_t>(from - 1))
                                 .Bind(2, static_cast<int64_t>(b.last_seq))
                                 .Step();
      if (!counted.ok()) st = counted.status();
      uint64_t removed = counted.ok() && *counted ? static_cast<uint64_t>(gone.Int(0)) : 0;
      gone.Reset();
      records += b.last_seq - from + 1 - std::min(removed, b.last_seq - from + 1);
      plan.last_seq = b.last_seq;
      plan.blocks.push_back(std::move(b));
    }
    s.Reset();
    if (!st.ok()) return st.WithContext("peek");
    if (plan.blocks.empty()) return peek;
    Stmt& r = stmts_->removed_in_range;
    r.Bind(1, static_cast<int64_t>(plan.first_seq)).Bind(2, static_cast<int64_t>(plan.last_seq));
    for (;;) {
      Result<bool> row = r.Step();
      if (!row.ok()) st = row.status();
      if (!row.ok() || !*row) break;
      plan.removed.push_back(static_cast<uint64_t>(r.Int(0)));
    }
    r.Reset();
    if (!st.ok()) return st.WithContext("peek");
  }
  std::string ndjson;
  uint32_t count = 0;
  FERRY_RETURN_IF_ERROR(BatchAssembler(0).Lines(plan, &ndjson, &count).WithContext("peek"));
  std::string_view rest = ndjson;
  while (peek.lines.size() < limit && !rest.empty()) {
    size_t nl = rest.find('\n');
    peek.lines.emplace_back(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  return peek;
}

}  // namespace ferry::storage

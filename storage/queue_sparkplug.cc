// The Sparkplug metrics kept with the queue (table sparkplug_metrics, FORMAT.md).
#include "storage/queue.h"
#include "storage/queue_internal.h"

namespace ferry::storage {

using platform::Result;
using platform::Status;

// Within Append's transaction, under mu_.
Status Queue::InsertSparkplugMetrics(std::span<const SparkplugMetricRow> rows) {
  for (const SparkplugMetricRow& r : rows) {
    Stmt& s = stmts_->upsert_sparkplug_metric;
    s.Bind(1, r.scope).Bind(2, r.name);
    if (r.alias) {
      s.Bind(3, static_cast<int64_t>(*r.alias));
    } else {
      s.BindNull(3);
    }
    s.Bind(4, static_cast<int64_t>(r.datatype));
    FERRY_RETURN_IF_ERROR(s.Run());
  }
  return Status::Ok();
}

Result<std::vector<SparkplugMetricRow>> Queue::LoadSparkplugMetrics() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = db_->Prepare("SELECT scope,name,alias,datatype FROM sparkplug_metrics");
  if (!stmt.ok()) return stmt.status();
  std::vector<SparkplugMetricRow> rows;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status().WithContext("reading sparkplug_metrics");
    if (!*row) break;
    SparkplugMetricRow r{std::string(stmt->Text(0)), std::string(stmt->Text(1)), std::nullopt,
                         static_cast<uint32_t>(stmt->Int(3))};
    if (!stmt->IsNull(2)) r.alias = static_cast<uint64_t>(stmt->Int(2));
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace ferry::storage

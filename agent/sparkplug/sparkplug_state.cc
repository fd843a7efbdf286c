#include "agent/sparkplug/sparkplug_state.h"

#include <utility>

namespace ferry::agent {

void SparkplugState::Put(const storage::SparkplugMetricRow& row) {
  Scope& scope = scopes_[row.scope];
  auto [it, added] = scope.datatypes.insert_or_assign(row.name, row.datatype);
  if (added) ++metrics_;
  if (row.alias) scope.names[*row.alias] = {row.name, row.datatype};
}

void SparkplugState::Load(const std::vector<storage::SparkplugMetricRow>& rows) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& row : rows) Put(row);
}

bool SparkplugState::Learn(const std::string& scope, const std::vector<SparkplugMetric>& metrics,
                           std::string* reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (metrics_ + metrics.size() > kMaxMetrics) {
    *reason = "sparkplug: more than " + std::to_string(kMaxMetrics) + " metrics defined";
    return false;
  }
  const Scope* known = nullptr;
  if (auto it = scopes_.find(scope); it != scopes_.end()) known = &it->second;
  for (const SparkplugMetric& m : metrics) {
    if (m.name.empty()) continue;
    storage::SparkplugMetricRow row{scope, m.name, m.alias, m.datatype};
    // A rebirth usually repeats what is kept: only changes are written.
    if (known != nullptr) {
      auto type = known->datatypes.find(m.name);
      bool same_alias = true;
      if (m.alias) {
        auto name = known->names.find(*m.alias);
        same_alias = name != known->names.end() && name->second.name == m.name;
      }
      if (type != known->datatypes.end() && type->second == m.datatype && same_alias) continue;
    }
    Put(row);
    known = &scopes_[scope];
    pending_.push_back(std::move(row));
  }
  return true;
}

bool SparkplugState::Resolve(const std::string& scope, std::vector<SparkplugMetric>* metrics,
                             std::string* reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scopes_.find(scope);
  const Scope* known = it == scopes_.end() ? nullptr : &it->second;
  for (SparkplugMetric& m : *metrics) {
    if (m.name.empty() && m.alias) {
      const Scope::Defined* defined = nullptr;
      if (known != nullptr) {
        auto found = known->names.find(*m.alias);
        if (found != known->names.end()) defined = &found->second;
      }
      if (defined == nullptr) {
        *reason = "sparkplug: unknown alias " + std::to_string(*m.alias) + " in " + scope +
                  " (no BIRTH defined it)";
        return false;
      }
      m.name = defined->name;
      if (m.datatype == kSpUnknown) RetypeSparkplugValue(defined->datatype, &m);
      continue;
    }
    if (m.datatype == kSpUnknown && known != nullptr) {
      auto type = known->datatypes.find(m.name);
      if (type != known->datatypes.end()) RetypeSparkplugValue(type->second, &m);
    }
  }
  return true;
}

std::vector<storage::SparkplugMetricRow> SparkplugState::TakePending() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(pending_, {});
}

void SparkplugState::Restore(std::vector<storage::SparkplugMetricRow> rows) {
  std::lock_guard<std::mutex> lock(mu_);
  rows.insert(rows.end(), std::make_move_iterator(pending_.begin()),
              std::make_move_iterator(pending_.end()));
  pending_ = std::move(rows);
}

size_t SparkplugState::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return metrics_;
}

}  // namespace ferry::agent

#include "agent/status/metrics.h"

namespace ferry::agent {

void LabeledCounter::Add(const std::string& label, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[label] += n;
}

std::map<std::string, uint64_t> LabeledCounter::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_;
}

uint64_t LabeledCounter::Total() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t sum = 0;
  for (const auto& [k, v] : values_) sum += v;
  return sum;
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace ferry::agent

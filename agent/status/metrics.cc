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

std::string DeadLetterReasonLabel(const std::string& reason) {
  struct Rule {
    const char* prefix;
    const char* label;
  };
  static constexpr Rule kRules[] = {
      {"empty payload", "empty_payload"},
      {"payload is not valid UTF-8", "invalid_utf8"},
      {"invalid JSON", "invalid_json"},
      {"payload too large", "too_large"},
      {"refused by landing zone", "rejected"},
      {"invalid line protocol", "invalid_line_protocol"},
      {"validation failed", "validation_failed"},
      {"JSON nested deeper", "too_deep"},
      {"payload is only whitespace", "empty_payload"},
      {"sparkplug: unknown alias", "sparkplug_unknown_alias"},
      {"sparkplug", "invalid_sparkplug"},
      {"transform ", "transform"},
  };
  for (const Rule& r : kRules) {
    if (reason.rfind(r.prefix, 0) == 0) return r.label;
  }
  return "invalid_message";
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

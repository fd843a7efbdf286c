#include "agent/status/history.h"

namespace ferry::agent {

void History::Add(const Sample& s) {
  std::lock_guard<std::mutex> lock(mu_);
  ring_[next_] = s;
  next_ = (next_ + 1) % ring_.size();
  size_ = std::min(size_ + 1, ring_.size());
}

std::vector<Sample> History::Samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Sample> out;
  out.reserve(size_);
  size_t start = (next_ + ring_.size() - size_) % ring_.size();
  for (size_t i = 0; i < size_; ++i) out.push_back(ring_[(start + i) % ring_.size()]);
  return out;
}

nlohmann::json History::Json() const {
  std::vector<Sample> samples = Samples();
  nlohmann::json j = {{"interval_seconds", kSampleIntervalMs / 1000}};
  auto column = [&](const char* name, auto field) {
    nlohmann::json values = nlohmann::json::array();
    for (const Sample& s : samples) values.push_back(s.*field);
    j[name] = std::move(values);
  };
  column("t", &Sample::wall_ms);
  column("received", &Sample::received);
  column("delivered", &Sample::delivered);
  column("dead_lettered", &Sample::dead_lettered);
  column("dropped", &Sample::dropped);
  column("queue_records", &Sample::queue_records);
  column("queue_bytes", &Sample::queue_bytes);
  column("disk_bytes", &Sample::disk_bytes);
  column("dead_letters", &Sample::dead_letters);
  column("rss_bytes", &Sample::rss_bytes);
  return j;
}

}  // namespace ferry::agent

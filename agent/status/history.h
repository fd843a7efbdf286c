// The status page's charts: a small in-memory ring of samples of the agent's counters and
// gauges, taken every kSampleIntervalMs by the status server, the newest kCapacity kept (an
// hour). Served as JSON at GET /status/history. Thread-safe. Memory: kCapacity samples of
// 80 bytes, allocated once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry::agent {

struct Sample {
  int64_t wall_ms = 0;
  uint64_t received = 0;  // counters, since the agent started
  uint64_t delivered = 0;
  uint64_t dead_lettered = 0;
  uint64_t dropped = 0;
  uint64_t queue_records = 0;  // gauges
  uint64_t queue_bytes = 0;
  uint64_t disk_bytes = 0;
  uint64_t dead_letters = 0;
  uint64_t rss_bytes = 0;
};

class History {
 public:
  static constexpr int64_t kSampleIntervalMs = 5'000;
  static constexpr size_t kCapacity = 720;

  History() : ring_(kCapacity) {}
  void Add(const Sample& s);
  // Oldest first.
  std::vector<Sample> Samples() const;
  // {"interval_seconds": 5, "t": [wall ms...], "received": [...], ...}: one array per field,
  // oldest first, all of the same length.
  nlohmann::json Json() const;

 private:
  mutable std::mutex mu_;
  std::vector<Sample> ring_;
  size_t next_ = 0;
  size_t size_ = 0;
};

}  // namespace ferry::agent

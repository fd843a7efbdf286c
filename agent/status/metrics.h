// Counters and gauges shared by the pipeline's threads, rendered as Prometheus text and as the
// counters of /status. Every method is thread-safe and lock-free except the labeled counters,
// which take a short mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace ferry::agent {

class LabeledCounter {
 public:
  void Add(const std::string& label, uint64_t n = 1);
  std::map<std::string, uint64_t> Snapshot() const;
  uint64_t Total() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> values_;
};

struct Metrics {
  LabeledCounter records_received;  // {source}
  std::atomic<uint64_t> records_stored{0};
  std::atomic<uint64_t> records_delivered{0};
  LabeledCounter records_dead_lettered;  // {reason}: DeadLetterLabel(code), dead_letter_reason.h
  LabeledCounter records_dropped;        // {reason}
  LabeledCounter upstream_requests;      // {code}: HTTP status, or "error" without a response
  std::atomic<uint64_t> upstream_bytes_sent{0};
  LabeledCounter upstream_probes;  // {code}: probes while the breaker is open
  std::atomic<uint64_t> batches_delivered{0};
  std::atomic<int> mqtt_connected{0};
  std::atomic<uint64_t> mqtt_connects{0};
  std::atomic<uint64_t> mqtt_redeliveries_skipped{0};
  std::atomic<uint64_t> intake_commits{0};  // groups committed by the MQTT source's gate
  std::atomic<uint64_t> queue_quarantined{0};
  std::atomic<uint64_t> queue_epochs_started{0};  // after an unclean stop (storage.sync normal)
  std::atomic<uint64_t> dead_letters_replayed{0};
  std::atomic<uint64_t> dead_letters_purged{0};  // deleted on request (POST /dead-letters/purge)
};

// A Prometheus label value escaped as the exposition format requires (backslash, quote, newline).
std::string EscapeLabel(const std::string& value);

}  // namespace ferry::agent

// The circuit breaker of the forwarder. After `failures` failed uploads in a row it opens:
// no batch is sent, and the landing zone is probed with one small request every
// `probe_interval`, so a long outage neither hammers the landing zone with whole batches nor
// leaves a backlog waiting out a long backoff once it is back. A probe that gets an answer
// half-opens the breaker: the next batch goes out at once, and its success closes it.
//
// Pure state over times passed in (monotonic ms); not thread-safe.
#pragma once

#include <cstdint>

namespace ferry::agent {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(uint32_t failures, int64_t probe_interval_ms)
      : threshold_(failures), probe_interval_ms_(probe_interval_ms) {}

  // A batch was delivered (or refused for its content: the landing zone is up).
  void OnSuccess();
  // An upload failed in a way worth retrying. Returns true when this opened the breaker.
  bool OnFailure(int64_t now_ms);
  // A probe's outcome while open: answered (any HTTP answer but 5xx or 429) or not.
  void OnProbe(bool answered, int64_t now_ms);
  // Pushes the next probe out, for a Retry-After longer than the probe interval.
  void DelayProbe(int64_t until_ms);

  State state() const { return state_; }
  bool open() const { return state_ == State::kOpen; }
  int64_t next_probe_ms() const { return next_probe_ms_; }
  uint32_t consecutive_failures() const { return failures_; }

 private:
  uint32_t threshold_;
  int64_t probe_interval_ms_;
  State state_ = State::kClosed;
  uint32_t failures_ = 0;
  int64_t next_probe_ms_ = 0;
};

const char* BreakerStateName(CircuitBreaker::State state);

}  // namespace ferry::agent

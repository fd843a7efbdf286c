#include "agent/forward/breaker.h"

#include <algorithm>

namespace ferry::agent {

void CircuitBreaker::OnSuccess() {
  state_ = State::kClosed;
  failures_ = 0;
}

bool CircuitBreaker::OnFailure(int64_t now_ms) {
  ++failures_;
  if (state_ == State::kHalfOpen || (state_ == State::kClosed && failures_ >= threshold_)) {
    state_ = State::kOpen;
    next_probe_ms_ = now_ms + probe_interval_ms_;
    return true;
  }
  if (state_ == State::kOpen) next_probe_ms_ = now_ms + probe_interval_ms_;
  return false;
}

void CircuitBreaker::OnProbe(bool answered, int64_t now_ms) {
  if (state_ != State::kOpen) return;
  if (answered) {
    state_ = State::kHalfOpen;
  } else {
    next_probe_ms_ = now_ms + probe_interval_ms_;
  }
}

void CircuitBreaker::DelayProbe(int64_t until_ms) {
  next_probe_ms_ = std::max(next_probe_ms_, until_ms);
}

const char* BreakerStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

}  // namespace ferry::agent

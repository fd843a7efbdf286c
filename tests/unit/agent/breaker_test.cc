#include "agent/forward/breaker.h"

#include <doctest/doctest.h>

using ferry::agent::CircuitBreaker;

TEST_CASE("the breaker opens after the configured failures in a row and probes on its interval") {
  CircuitBreaker b(3, 5'000);
  CHECK(!b.OnFailure(0));
  CHECK(!b.OnFailure(1'000));
  CHECK(b.state() == CircuitBreaker::State::kClosed);
  CHECK(b.OnFailure(3'000));
  CHECK(b.open());
  CHECK(b.next_probe_ms() == 8'000);
  b.OnProbe(false, 8'000);  // still down
  CHECK(b.open());
  CHECK(b.next_probe_ms() == 13'000);
  b.OnProbe(true, 13'000);  // an answer: let one batch through
  CHECK(b.state() == CircuitBreaker::State::kHalfOpen);
  b.OnSuccess();
  CHECK(b.state() == CircuitBreaker::State::kClosed);
  CHECK(b.consecutive_failures() == 0);
}

TEST_CASE("a failed batch after a good probe opens the breaker again at once") {
  CircuitBreaker b(1, 5'000);
  CHECK(b.OnFailure(0));
  b.OnProbe(true, 5'000);
  CHECK(b.OnFailure(5'100));
  CHECK(b.open());
  CHECK(b.next_probe_ms() == 10'100);
}

TEST_CASE("a success in between resets the count of failures") {
  CircuitBreaker b(2, 5'000);
  b.OnFailure(0);
  b.OnSuccess();
  CHECK(!b.OnFailure(10));
  CHECK(b.state() == CircuitBreaker::State::kClosed);
}

TEST_CASE("Retry-After can push a probe out but never pull it in") {
  CircuitBreaker b(1, 5'000);
  b.OnFailure(0);
  b.DelayProbe(60'000);
  CHECK(b.next_probe_ms() == 60'000);
  b.DelayProbe(1'000);
  CHECK(b.next_probe_ms() == 60'000);
}

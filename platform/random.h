// Random sources: jitter for backoff, queue epochs. Passed in so tests are deterministic.
#pragma once

#include <cstdint>
#include <string>

namespace ferry::platform {

class Random {
 public:
  virtual ~Random() = default;
  // A uniformly distributed 64-bit value. Not thread-safe: one instance per thread.
  virtual uint64_t Next() = 0;
  // Uniform in [0, bound); 0 when bound is 0.
  uint64_t Below(uint64_t bound) { return bound == 0 ? 0 : Next() % bound; }
};

// xorshift-based generator seeded from the OS (getrandom); a new instance per caller.
class OsRandom : public Random {
 public:
  OsRandom();
  uint64_t Next() override;

 private:
  uint64_t state_;
};

// A fixed sequence for tests: returns `value` every time.
class FixedRandom : public Random {
 public:
  explicit FixedRandom(uint64_t value) : value_(value) {}
  uint64_t Next() override { return value_; }

 private:
  uint64_t value_;
};

// `length` characters of [a-z0-9] from `random`.
std::string RandomToken(Random& random, size_t length);

}  // namespace ferry::platform

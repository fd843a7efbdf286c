// Time sources. Every timer uses the monotonic clock; only record stamps use the wall clock,
// because gateways without a real-time clock jump by years when NTP syncs.
// Implementations must be thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace ferry::platform {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since an arbitrary start; never goes backwards.
  virtual int64_t MonotonicNanos() const = 0;
  // Milliseconds since 1970-01-01 UTC; may jump in either direction.
  virtual int64_t WallMillis() const = 0;

  int64_t MonotonicMillis() const { return MonotonicNanos() / 1'000'000; }
};

// The operating system's clocks (CLOCK_MONOTONIC and CLOCK_REALTIME). Lives for the program.
Clock& SystemClock();

// A clock that moves only when told to: for tests of timers, backoff and clock jumps.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t wall_ms = 1'763'720'100'000, int64_t mono_ns = 1'000'000'000)
      : mono_ns_(mono_ns), wall_ms_(wall_ms) {}
  int64_t MonotonicNanos() const override { return mono_ns_.load(); }
  int64_t WallMillis() const override { return wall_ms_.load(); }
  // Moves both clocks forward.
  void Advance(int64_t ms) {
    mono_ns_ += ms * 1'000'000;
    wall_ms_ += ms;
  }
  // Moves only the wall clock (an NTP step), by any amount, forward or back.
  void JumpWall(int64_t ms) { wall_ms_ += ms; }

 private:
  std::atomic<int64_t> mono_ns_;
  std::atomic<int64_t> wall_ms_;
};

// A UTC calendar time, computed in 64 bits (time_t is 32-bit on armhf and wraps in 2038).
struct CivilTime {
  int year;
  unsigned month;  // 1-12
  unsigned day;    // 1-31
  int hour, minute, second;
};
CivilTime ToUtcCivil(int64_t unix_secs);

}  // namespace ferry::platform

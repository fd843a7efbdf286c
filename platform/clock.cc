#include "platform/clock.h"

#include <time.h>

#include <chrono>

namespace ferry::platform {
namespace {

class OsClock : public Clock {
 public:
  int64_t MonotonicNanos() const override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
  int64_t WallMillis() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
  }
};

}  // namespace

Clock& SystemClock() {
  static OsClock clock;
  return clock;
}

CivilTime ToUtcCivil(int64_t unix_secs) {
  int64_t days = unix_secs >= 0 ? unix_secs / 86400 : (unix_secs - 86399) / 86400;
  int64_t rem = unix_secs - days * 86400;
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  return CivilTime{static_cast<int>(ymd.year()),     static_cast<unsigned>(ymd.month()),
                   static_cast<unsigned>(ymd.day()), static_cast<int>(rem / 3600),
                   static_cast<int>(rem / 60 % 60),  static_cast<int>(rem % 60)};
}

}  // namespace ferry::platform

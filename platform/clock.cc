#include "platform/clock.h"

#include <time.h>

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

}  // namespace ferry::platform

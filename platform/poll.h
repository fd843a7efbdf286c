// Waiting on a socket, for loops that drive a client library's network I/O themselves.
#pragma once

#include "platform/status.h"

namespace ferry::platform {

struct FdReady {
  bool readable = false;
  bool writable = false;
  bool error = false;  // hang-up or error condition on the descriptor
};

// Waits up to `timeout_ms` for `fd` to become readable (when `want_read`) or writable (when
// `want_write`). Returns all-false on timeout or EINTR. kIoError if poll itself fails.
Result<FdReady> WaitFd(int fd, bool want_read, bool want_write, int timeout_ms);

// Sleeps for `ms` milliseconds on the monotonic clock.
void SleepMillis(int64_t ms);
// Sleeps for `us` microseconds (no call at all when `us` <= 0).
void SleepMicros(int64_t us);

}  // namespace ferry::platform

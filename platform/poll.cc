#include "platform/poll.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include <chrono>
#include <thread>

namespace ferry::platform {

Result<FdReady> WaitFd(int fd, bool want_read, bool want_write, int timeout_ms) {
  pollfd p{fd, static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
  int rc = poll(&p, 1, timeout_ms);
  if (rc < 0) {
    if (errno == EINTR) return FdReady{};
    return Status::IoError(std::string("poll: ") + strerror(errno));
  }
  FdReady r;
  r.readable = (p.revents & POLLIN) != 0;
  r.writable = (p.revents & POLLOUT) != 0;
  r.error = (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
  return r;
}

void SleepMillis(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void SleepMicros(int64_t us) {
  if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

}  // namespace ferry::platform

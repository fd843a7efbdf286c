#include "platform/pipe_io.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ferry::platform {

Status PollFds(std::span<PollItem> items, int timeout_ms) {
  std::vector<pollfd> fds;
  fds.reserve(items.size());
  for (PollItem& item : items) {
    item.readable = item.writable = item.hangup = false;
    short events =
        static_cast<short>((item.want_read ? POLLIN : 0) | (item.want_write ? POLLOUT : 0));
    fds.push_back({item.fd, events, 0});
  }
  int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return Status::Ok();
    return Status::IoError(std::string("poll: ") + std::strerror(errno));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    short r = fds[i].revents;
    items[i].readable = (r & (POLLIN | POLLHUP)) != 0 && items[i].want_read;
    items[i].writable = (r & POLLOUT) != 0;
    items[i].hangup = (r & (POLLHUP | POLLERR | POLLNVAL)) != 0;
  }
  return Status::Ok();
}

Result<size_t> ReadSome(int fd, size_t max, std::string* out) {
  size_t old = out->size();
  out->resize(old + max);
  ssize_t n;
  do {
    n = read(fd, out->data() + old, max);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    out->resize(old);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Unavailable("nothing to read");
    return Status::IoError(std::string("read: ") + std::strerror(errno));
  }
  out->resize(old + static_cast<size_t>(n));
  return static_cast<size_t>(n);
}

Result<size_t> WriteSome(int fd, std::string_view data) {
  if (data.empty()) return size_t{0};
  ssize_t n;
  do {
    n = write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return Status::IoError(std::string("write: ") + std::strerror(errno));
  }
  return static_cast<size_t>(n);
}

}  // namespace ferry::platform

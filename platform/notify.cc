#include "platform/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ferry::platform {

bool NotifyServiceManager(std::string_view state) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (!path || !*path) return true;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (len >= sizeof addr.sun_path) return false;
  memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                        reinterpret_cast<const sockaddr*>(&addr), addr_len);
  close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

int64_t WatchdogPingIntervalMs() {
  const char* usec = getenv("WATCHDOG_USEC");
  if (!usec) return 0;
  const char* pid = getenv("WATCHDOG_PID");
  if (pid && std::strtoll(pid, nullptr, 10) != static_cast<long long>(getpid())) return 0;
  long long us = std::strtoll(usec, nullptr, 10);
  return us > 0 ? us / 2000 : 0;
}

}  // namespace ferry::platform

#include "platform/notify.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "support/temp_dir.h"

TEST_CASE("notifications reach the socket named by NOTIFY_SOCKET") {
  ferry::testing::TempDir dir;
  std::string path = dir.File("notify.sock");
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  CHECK(ferry::platform::NotifyServiceManager("READY=1\nSTATUS=running"));
  char buf[128] = {};
  ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "READY=1\nSTATUS=running");
  unsetenv("NOTIFY_SOCKET");
  close(fd);
}

TEST_CASE("without a service manager notifying is a no-op") {
  unsetenv("NOTIFY_SOCKET");
  CHECK(ferry::platform::NotifyServiceManager("READY=1"));
}

TEST_CASE("the watchdog is pinged at half the interval, only when meant for this process") {
  setenv("WATCHDOG_USEC", "30000000", 1);
  unsetenv("WATCHDOG_PID");
  CHECK(ferry::platform::WatchdogPingIntervalMs() == 15'000);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  CHECK(ferry::platform::WatchdogPingIntervalMs() == 0);
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  CHECK(ferry::platform::WatchdogPingIntervalMs() == 0);
}

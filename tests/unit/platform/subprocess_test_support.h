// Helpers of the subprocess and sandbox tests: scripts in a temporary directory, reading a
// child's output to its end, waiting for it, and finding its processes in /proc.
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "platform/subprocess.h"
#include "support/temp_dir.h"

namespace ferry::testing {

inline constexpr const char* kPython = "/usr/bin/python3";

// Writes `text` to dir/name, readable and executable by everyone (the sandbox runs as nobody).
inline std::string WriteScript(const TempDir& dir, const std::string& name,
                               const std::string& text) {
  chmod(dir.path().c_str(), 0755);
  std::string path = dir.File(name);
  std::ofstream(path) << text;
  chmod(path.c_str(), 0755);
  return path;
}

// Reads `fd` (non-blocking) until EOF or `timeout_ms`.
inline std::string ReadToEnd(int fd, int timeout_ms = 10'000) {
  std::string out;
  char buf[4096];
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      waited -= 10;
      continue;
    }
    if (n == 0) break;
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, 10);
  }
  return out;
}

// Reads one line (without '\n') from `fd`, waiting up to `timeout_ms`.
inline std::string ReadLine(int fd, int timeout_ms = 10'000) {
  std::string line;
  char c;
  for (int waited = 0; waited < timeout_ms;) {
    ssize_t n = read(fd, &c, 1);
    if (n == 1) {
      if (c == '\n') return line;
      line += c;
    } else if (n == 0) {
      return line;
    } else {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 10);
      waited += 10;
    }
  }
  return line;
}

inline bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 10);
    } else {
      return false;
    }
  }
  return true;
}

// Waits up to `timeout_ms` for the child to end; "" if it did not.
inline std::string WaitEnded(platform::ChildProcess* child, int timeout_ms = 10'000) {
  std::string how;
  for (int waited = 0; waited < timeout_ms; waited += 5) {
    if (platform::Reaped(child, &how)) return how;
    timespec ts{0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
  return "";
}

// The command line of process `pid`, empty when it has ended. A process that ends while its
// file is read fails the read with ESRCH: an ifstream throws there (seen under load).
inline std::string CmdlineOf(const char* pid) {
  std::string cmdline;
  int fd = open((std::string("/proc/") + pid + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cmdline;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) cmdline.append(buf, static_cast<size_t>(n));
  close(fd);
  return cmdline;
}

// How many processes have `token` in their command line.
inline int ProcessesWith(const std::string& token) {
  int count = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (CmdlineOf(e->d_name).find(token) != std::string::npos) ++count;
  }
  closedir(proc);
  return count;
}

// The options every test starts from: `argv`, private directory dir/private.
inline platform::SpawnOptions Options(const TempDir& dir, std::vector<std::string> argv,
                                      platform::Isolation isolation) {
  platform::SpawnOptions options;
  options.argv = std::move(argv);
  options.isolation = isolation;
  options.private_dir = dir.File("private");
  return options;
}

// The cross builds' unit tests run under qemu-user (tests/CMakeLists.txt): child processes are
// the host's programs there, and qemu ignores RLIMIT_AS.
inline bool UnderQemu() {
  const char* v = getenv("FERRY_UNDER_QEMU");
  return v != nullptr && std::string(v) == "1";
}

struct IgnoreSigpipe {
  IgnoreSigpipe() { signal(SIGPIPE, SIG_IGN); }
};

}  // namespace ferry::testing

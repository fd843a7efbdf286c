// Figures about this process, for /status and the benchmarks.
#pragma once

#include <cstdint>
#include <string>

namespace ferry::platform {

struct ProcessStats {
  uint64_t rss_bytes = 0;       // resident set size now
  uint64_t peak_rss_bytes = 0;  // high-water mark of the resident set (VmHWM)
  double cpu_seconds = 0;       // user + system time so far
};

// Reads /proc/self; fields stay 0 where the system does not tell.
ProcessStats ReadProcessStats();

// An id of this boot of the machine (/proc/sys/kernel/random/boot_id), or "" if unknown.
std::string BootId();

// The machine's host name, or "" if unknown.
std::string HostName();

// The value of environment variable `name`, "" if unset.
std::string GetEnv(const char* name);

}  // namespace ferry::platform

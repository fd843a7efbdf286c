#include "platform/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ferry::platform {

ProcessStats ReadProcessStats() {
  ProcessStats s;
  if (FILE* f = fopen("/proc/self/status", "re")) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      unsigned long long kb = 0;
      if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) s.rss_bytes = kb * 1024;
      if (sscanf(line, "VmHWM: %llu kB", &kb) == 1) s.peak_rss_bytes = kb * 1024;
    }
    fclose(f);
  }
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    s.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
  return s;
}

std::string BootId() {
  std::string id;
  if (FILE* f = fopen("/proc/sys/kernel/random/boot_id", "re")) {
    char buf[64] = {};
    if (fgets(buf, sizeof buf, f)) id = buf;
    fclose(f);
  }
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::string GetEnv(const char* name) {
  const char* value = getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace ferry::platform

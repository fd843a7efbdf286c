#include "platform/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "platform/clock.h"

namespace ferry::platform {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kText};
std::mutex g_mu;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool ParseLogLevel(std::string_view name, LogLevel* level) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void SetLogLevel(LogLevel level) { g_level = level; }
void SetLogFormat(LogFormat format) { g_format = format; }
bool LogEnabled(LogLevel level) { return level >= g_level.load(); }

std::string FormatRfc3339Millis(int64_t unix_ms) {
  int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  int ms = static_cast<int>(unix_ms - secs * 1000);
  // Records arrive in bursts within the same second: format the date part once per second.
  // Two slots, since a record carries two times (event and receipt) that often differ.
  thread_local int64_t cached_secs[2] = {INT64_MIN, INT64_MIN};
  thread_local char cached[2][24];
  thread_local int next_slot = 0;
  int slot = secs == cached_secs[0] ? 0 : (secs == cached_secs[1] ? 1 : -1);
  if (slot < 0) {
    slot = next_slot;
    next_slot ^= 1;
    CivilTime c = ToUtcCivil(secs);
    snprintf(cached[slot], sizeof cached[slot], "%04d-%02u-%02uT%02d:%02d:%02d", c.year, c.month,
             c.day, c.hour, c.minute, c.second);
    cached_secs[slot] = secs;
  }
  std::string out(cached[slot]);
  char frac[6] = {'.',
                  static_cast<char>('0' + ms / 100),
                  static_cast<char>('0' + ms / 10 % 10),
                  static_cast<char>('0' + ms % 10),
                  'Z',
                  '\0'};
  out.append(frac, 5);
  return out;
}

void Log(LogLevel level, std::string_view component, std::string_view message) {
  if (!LogEnabled(level)) return;
  std::string line;
  std::string time = FormatRfc3339Millis(SystemClock().WallMillis());
  if (g_format.load() == LogFormat::kJson) {
    nlohmann::json j = {{"time", time},
                        {"level", LevelName(level)},
                        {"component", std::string(component)},
                        {"msg", std::string(message)}};
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line =
        time + " " + LevelName(level) + " " + std::string(component) + ": " + std::string(message);
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(g_mu);
  // One write per line so lines from several threads never interleave.
  ssize_t unused = write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace ferry::platform

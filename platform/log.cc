#include "platform/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>
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

namespace {

// "YYYY-MM-DDTHH:MM:SS" into `buf` (at least 24 bytes, NUL-terminated); its length.
size_t FormatSecond(int64_t secs, char* buf) {
  CivilTime c = ToUtcCivil(secs);
  if (c.year < 0 || c.year > 9999) {  // as printf writes them ("-001", "10000"), cut to 23
    snprintf(buf, 24, "%04d-%02u-%02uT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
             c.second);
    return strlen(buf);
  }
  auto two = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  two(buf, static_cast<unsigned>(c.year) / 100);
  two(buf + 2, static_cast<unsigned>(c.year) % 100);
  buf[4] = '-';
  two(buf + 5, c.month);
  buf[7] = '-';
  two(buf + 8, c.day);
  buf[10] = 'T';
  two(buf + 11, static_cast<unsigned>(c.hour));
  buf[13] = ':';
  two(buf + 14, static_cast<unsigned>(c.minute));
  buf[16] = ':';
  two(buf + 17, static_cast<unsigned>(c.second));
  buf[19] = '\0';
  return 19;
}

}  // namespace

void AppendRfc3339Millis(int64_t unix_ms, std::string& out) {
  int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  int ms = static_cast<int>(unix_ms - secs * 1000);
  // Records arrive in bursts within the same second: format the date part once per second.
  // Two slots, since a record carries two times (event and receipt) that often differ.
  thread_local int64_t cached_secs[2] = {INT64_MIN, INT64_MIN};
  thread_local char cached[2][24];
  thread_local size_t cached_len[2];
  thread_local int next_slot = 0;
  int slot = secs == cached_secs[0] ? 0 : (secs == cached_secs[1] ? 1 : -1);
  if (slot < 0) {
    slot = next_slot;
    next_slot ^= 1;
    cached_len[slot] = FormatSecond(secs, cached[slot]);
    cached_secs[slot] = secs;
  }
  out.append(cached[slot], cached_len[slot]);
  char frac[5] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                  static_cast<char>('0' + ms % 10), 'Z'};
  out.append(frac, sizeof frac);
}

std::string FormatRfc3339Millis(int64_t unix_ms) {
  std::string out;
  AppendRfc3339Millis(unix_ms, out);
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

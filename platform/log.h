// Logging to stderr, one line per event: plain text for a person or one JSON object per line
// for journald and log shippers. Thread-safe; the level and format can change at run time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::platform {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn", "error" -> level; false for anything else.
bool ParseLogLevel(std::string_view name, LogLevel* level);

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
bool LogEnabled(LogLevel level);

// Writes one line: time, level, component ("queue", "mqtt", ...) and the message.
void Log(LogLevel level, std::string_view component, std::string_view message);

inline void LogDebug(std::string_view c, std::string_view m) { Log(LogLevel::kDebug, c, m); }
inline void LogInfo(std::string_view c, std::string_view m) { Log(LogLevel::kInfo, c, m); }
inline void LogWarn(std::string_view c, std::string_view m) { Log(LogLevel::kWarn, c, m); }
inline void LogError(std::string_view c, std::string_view m) { Log(LogLevel::kError, c, m); }

// Says when an error that may last for hours deserves a log line: the first time, when it
// changes, and again every `every_ms` while it lasts (a broker down for an hour is a line every
// few minutes, not thousands). Times are monotonic milliseconds. Not thread-safe.
class LogThrottle {
 public:
  explicit LogThrottle(int64_t every_ms) : every_ms_(every_ms) {}
  // Notes `error` at `now_ms`; true when it is to be logged.
  bool Allow(const std::string& error, int64_t now_ms) {
    bool log = error != last_ || now_ms - logged_ms_ >= every_ms_;
    last_ = error;
    if (log) logged_ms_ = now_ms;
    return log;
  }
  // The error is over: the next one is logged whatever it is.
  void Clear() { last_.clear(); }
  // An error was noted since the last Clear().
  bool active() const { return !last_.empty(); }

 private:
  int64_t every_ms_;
  std::string last_;
  int64_t logged_ms_ = 0;
};

// RFC 3339 UTC with milliseconds: 2026-11-21T10:15:00.123Z.
std::string FormatRfc3339Millis(int64_t unix_ms);
// The same, appended to `out` (no string of its own: the record line's two times).
void AppendRfc3339Millis(int64_t unix_ms, std::string& out);

}  // namespace ferry::platform

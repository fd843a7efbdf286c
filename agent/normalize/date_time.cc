#include "agent/normalize/date_time.h"

#include <chrono>

namespace ferry::agent {
namespace {

// Reads exactly `n` decimal digits at s[*i].
bool ReadDigits(std::string_view s, size_t* i, int n, int* out) {
  if (s.size() < *i + n) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool Take(std::string_view s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

// Milliseconds of an optional ".ddd…" (1 to 9 digits); false if malformed.
bool ReadFraction(std::string_view s, size_t* i, int* ms) {
  *ms = 0;
  if (!Take(s, i, '.')) return true;
  int digits = 0;
  while (*i < s.size() && s[*i] >= '0' && s[*i] <= '9') {
    if (digits < 3) *ms = *ms * 10 + (s[*i] - '0');
    ++digits;
    ++*i;
  }
  if (digits == 0 || digits > 9) return false;
  for (int k = digits; k < 3; ++k) *ms *= 10;
  return true;
}

// The zone after the time of day into *t; false if malformed.
bool ReadZone(std::string_view rest, DateTimeText* t) {
  if (rest.empty()) return true;
  t->has_offset = true;
  if (rest == "Z" || rest == "z") return true;
  if (rest[0] != '+' && rest[0] != '-') return false;
  size_t i = 1;
  int hours = 0, minutes = 0;
  if (!ReadDigits(rest, &i, 2, &hours)) return false;
  Take(rest, &i, ':');  // "+01:00" and "+0100" both occur (EMS-ESP sends the latter)
  if (!ReadDigits(rest, &i, 2, &minutes) || i != rest.size()) return false;
  if (hours > 23 || minutes > 59) return false;
  t->offset_s = (rest[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  return true;
}

}  // namespace

std::optional<DateTimeText> ParseDateTimeText(std::string_view s) {
  size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  DateTimeText t;
  if (!ReadDigits(s, &i, 4, &year) || !Take(s, &i, '-') || !ReadDigits(s, &i, 2, &month) ||
      !Take(s, &i, '-') || !ReadDigits(s, &i, 2, &day)) {
    return std::nullopt;
  }
  if (!Take(s, &i, 'T') && !Take(s, &i, 't') && !Take(s, &i, ' ')) return std::nullopt;
  if (!ReadDigits(s, &i, 2, &hour) || !Take(s, &i, ':') || !ReadDigits(s, &i, 2, &minute) ||
      !Take(s, &i, ':') || !ReadDigits(s, &i, 2, &second) || !ReadFraction(s, &i, &t.ms)) {
    return std::nullopt;
  }
  if (!ReadZone(s.substr(i), &t)) return std::nullopt;
  using namespace std::chrono;
  year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                      std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int64_t days = sys_days{date}.time_since_epoch().count();
  t.local_s = days * 86400 + hour * 3600 + minute * 60 + second;
  return t;
}

std::optional<int64_t> ParseRfc3339Ms(std::string_view s) {
  std::optional<DateTimeText> t = ParseDateTimeText(s);
  if (!t || !t->has_offset) return std::nullopt;
  return (t->local_s - t->offset_s) * 1000 + t->ms;
}

}  // namespace ferry::agent

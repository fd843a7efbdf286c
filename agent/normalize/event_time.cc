#include "agent/normalize/event_time.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

namespace ferry::agent {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

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

// Seconds east of UTC from what follows the time of day; nullopt if malformed.
std::optional<int> ParseZone(std::string_view rest) {
  // No zone: taken as UTC for now. Zone-less device clocks (Tasmota "Time", rtl_433) really run
  // in local time; a later issue adds a per-route IANA timezone for them.
  if (rest.empty() || rest == "Z" || rest == "z") return 0;
  if (rest[0] != '+' && rest[0] != '-') return std::nullopt;
  size_t i = 1;
  int hours = 0, minutes = 0;
  if (!ReadDigits(rest, &i, 2, &hours)) return std::nullopt;
  Take(rest, &i, ':');  // "+01:00" and "+0100" both occur (EMS-ESP sends the latter)
  if (!ReadDigits(rest, &i, 2, &minutes) || i != rest.size()) return std::nullopt;
  if (hours > 23 || minutes > 59) return std::nullopt;
  int offset = hours * 3600 + minutes * 60;
  return rest[0] == '-' ? -offset : offset;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::optional<int64_t> IntegerToMs(int64_t v, TimeFormat unit) {
  switch (unit) {
    case TimeFormat::kEpochS:
      if (v > kInt64Max / 1000 || v < -kInt64Max / 1000) return std::nullopt;
      return v * 1000;
    case TimeFormat::kEpochMs:
      return v;
    case TimeFormat::kEpochUs:
      return FloorDiv(v, 1000);
    case TimeFormat::kEpochNs:
      return FloorDiv(v, 1'000'000);
    default:
      return std::nullopt;
  }
}

std::optional<int64_t> UnsignedToMs(uint64_t v, TimeFormat unit) {
  if (v <= static_cast<uint64_t>(kInt64Max)) return IntegerToMs(static_cast<int64_t>(v), unit);
  if (unit == TimeFormat::kEpochNs) return static_cast<int64_t>(v / 1'000'000);
  if (unit == TimeFormat::kEpochUs) return static_cast<int64_t>(v / 1000);
  return std::nullopt;
}

std::optional<int64_t> FloatToMs(double v, TimeFormat unit) {
  double per_unit = 0;  // microseconds per unit
  switch (unit) {
    case TimeFormat::kEpochS:
      per_unit = 1e6;
      break;
    case TimeFormat::kEpochMs:
      per_unit = 1e3;
      break;
    case TimeFormat::kEpochUs:
      per_unit = 1;
      break;
    case TimeFormat::kEpochNs:
      per_unit = 1e-3;
      break;
    default:
      return std::nullopt;
  }
  // Round to the microsecond before truncating to the millisecond: 1661517385.44 is stored as
  // 1661517385.4399998… and would otherwise come out one millisecond early.
  double us = std::round(v * per_unit);
  if (!std::isfinite(us) || std::fabs(us) > 9e18) return std::nullopt;
  return FloorDiv(static_cast<int64_t>(us), 1000);
}

TimeFormat UnitByMagnitude(double v) {
  double a = std::fabs(v);
  if (a < 1e11) return TimeFormat::kEpochS;
  if (a < 1e14) return TimeFormat::kEpochMs;
  if (a < 1e17) return TimeFormat::kEpochUs;
  return TimeFormat::kEpochNs;
}

std::optional<int64_t> NumberToMs(const nlohmann::json& v, TimeFormat unit) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (unit == TimeFormat::kAuto) unit = UnitByMagnitude(static_cast<double>(u));
    return UnsignedToMs(u, unit);
  }
  if (v.is_number_integer()) {
    auto i = v.get<int64_t>();
    if (unit == TimeFormat::kAuto) unit = UnitByMagnitude(static_cast<double>(i));
    return IntegerToMs(i, unit);
  }
  auto d = v.get<double>();
  if (unit == TimeFormat::kAuto) unit = UnitByMagnitude(d);
  return FloatToMs(d, unit);
}

// "1567595328" or "1661517385.44" in a given epoch unit.
std::optional<int64_t> NumericStringToMs(std::string_view s, TimeFormat unit) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  int64_t i = 0;
  auto [end, ec] = std::from_chars(first, last, i);
  if (ec == std::errc() && end == last) return IntegerToMs(i, unit);
  double d = 0;
  auto [dend, dec] = std::from_chars(first, last, d);
  if (dec != std::errc() || dend != last || !std::isfinite(d)) return std::nullopt;
  return FloatToMs(d, unit);
}

}  // namespace

std::optional<TimeFormat> ParseTimeFormat(std::string_view name) {
  if (name == "auto") return TimeFormat::kAuto;
  if (name == "rfc3339") return TimeFormat::kRfc3339;
  if (name == "epoch_s") return TimeFormat::kEpochS;
  if (name == "epoch_ms") return TimeFormat::kEpochMs;
  if (name == "epoch_us") return TimeFormat::kEpochUs;
  if (name == "epoch_ns") return TimeFormat::kEpochNs;
  return std::nullopt;
}

std::optional<int64_t> ParseRfc3339Ms(std::string_view s) {
  size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0;
  if (!ReadDigits(s, &i, 4, &year) || !Take(s, &i, '-') || !ReadDigits(s, &i, 2, &month) ||
      !Take(s, &i, '-') || !ReadDigits(s, &i, 2, &day)) {
    return std::nullopt;
  }
  if (!Take(s, &i, 'T') && !Take(s, &i, 't') && !Take(s, &i, ' ')) return std::nullopt;
  if (!ReadDigits(s, &i, 2, &hour) || !Take(s, &i, ':') || !ReadDigits(s, &i, 2, &minute) ||
      !Take(s, &i, ':') || !ReadDigits(s, &i, 2, &second) || !ReadFraction(s, &i, &ms)) {
    return std::nullopt;
  }
  std::optional<int> offset = ParseZone(s.substr(i));
  if (!offset) return std::nullopt;
  using namespace std::chrono;
  year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                      std::chrono::day{static_cast<unsigned>(day)}};
  // Second 60 is a leap second (RFC 3339 allows it); it lands on the next minute's :00.
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int64_t days = sys_days{date}.time_since_epoch().count();
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - *offset;
  return secs * 1000 + ms;
}

std::optional<int64_t> ParseEventTimeMs(const nlohmann::json& v, TimeFormat format) {
  if (v.is_number()) {
    if (format == TimeFormat::kRfc3339) return std::nullopt;
    return NumberToMs(v, format);
  }
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (format == TimeFormat::kAuto || format == TimeFormat::kRfc3339) return ParseRfc3339Ms(s);
  return NumericStringToMs(s, format);
}

std::optional<int64_t> ParseEventTimeMs(const nlohmann::json& v, std::string_view format) {
  std::optional<TimeFormat> f = ParseTimeFormat(format);
  if (!f) return std::nullopt;
  return ParseEventTimeMs(v, *f);
}

bool InEventTimeWindow(int64_t ts_ms, int64_t received_ms) {
  // Written so that no sum can overflow: ts_ms is at least kMinEventTimeMs when subtracted.
  return ts_ms >= kMinEventTimeMs && ts_ms - kMaxEventTimeAheadMs <= received_ms;
}

}  // namespace ferry::agent

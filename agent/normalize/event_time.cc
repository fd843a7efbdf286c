#include "agent/normalize/event_time.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ferry::agent {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

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

// "1567595328", "-1" or "1661517385.44" in a given epoch unit (kAuto: by magnitude); nullopt
// for anything else, also surrounding spaces.
std::optional<int64_t> NumericStringToMs(std::string_view s, TimeFormat unit) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  int64_t i = 0;
  auto [end, ec] = std::from_chars(first, last, i);
  if (ec == std::errc() && end == last) {
    if (unit == TimeFormat::kAuto) unit = UnitByMagnitude(static_cast<double>(i));
    return IntegerToMs(i, unit);
  }
  uint64_t u = 0;
  auto [uend, uec] = std::from_chars(first, last, u);
  if (uec == std::errc() && uend == last) {
    if (unit == TimeFormat::kAuto) unit = UnitByMagnitude(static_cast<double>(u));
    return UnsignedToMs(u, unit);
  }
  double d = 0;
  auto [dend, dec] = std::from_chars(first, last, d, std::chars_format::fixed);
  if (dec != std::errc() || dend != last || !std::isfinite(d)) return std::nullopt;
  if (unit == TimeFormat::kAuto) unit = UnitByMagnitude(d);
  return FloatToMs(d, unit);
}

bool LooksNumeric(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  return !s.empty() && s.front() >= '0' && s.front() <= '9' &&
         s.find_first_not_of("0123456789.") == std::string_view::npos;
}

// A local wall time in spec.zone, by the DST rule of the header.
int64_t LocalToUtcMs(const DateTimeText& t, const platform::TimeZone& zone, int64_t received_ms) {
  platform::LocalTimeCandidates c = zone.Resolve(t.local_s);
  int64_t earlier = c.earlier_s * 1000 + t.ms;
  int64_t later = c.later_s * 1000 + t.ms;
  if (earlier == later) return earlier;
  // |x - received| without overflow: both are far inside int64 (4-digit years).
  int64_t d_earlier = earlier > received_ms ? earlier - received_ms : received_ms - earlier;
  int64_t d_later = later > received_ms ? later - received_ms : received_ms - later;
  return d_later < d_earlier ? later : earlier;
}

std::optional<int64_t> DateTimeToMs(std::string_view s, const TimeSpec& spec, int64_t received_ms,
                                    TimeStatus* why) {
  std::optional<DateTimeText> t = ParseDateTimeText(s);
  if (!t) {
    *why = TimeStatus::kUnparsable;
    return std::nullopt;
  }
  if (t->has_offset) return (t->local_s - t->offset_s) * 1000 + t->ms;
  if (!spec.zone.valid()) {
    *why = TimeStatus::kNoTimezone;
    return std::nullopt;
  }
  return LocalToUtcMs(*t, spec.zone, received_ms);
}

}  // namespace

std::optional<TimeFormat> ParseTimeFormat(std::string_view name) {
  return ParseName<TimeFormat>(name);
}

const char* TimeStatusName(TimeStatus status) {
  switch (status) {
    case TimeStatus::kPayload:
      return "payload";
    case TimeStatus::kMissing:
      return "missing";
    case TimeStatus::kUnparsable:
      return "unparsable";
    case TimeStatus::kNoTimezone:
      return "no_timezone";
    case TimeStatus::kTooOld:
      return "too_old";
    case TimeStatus::kTooFarAhead:
      return "too_far_ahead";
  }
  return "?";
}

std::optional<int64_t> ParseEventTimeMs(const nlohmann::json& v, const TimeSpec& spec,
                                        int64_t received_ms, TimeStatus* why) {
  *why = TimeStatus::kUnparsable;
  if (v.is_number()) {
    if (spec.format == TimeFormat::kRfc3339) return std::nullopt;
    return NumberToMs(v, spec.format);
  }
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  switch (spec.format) {
    case TimeFormat::kRfc3339:
      return DateTimeToMs(s, spec, received_ms, why);
    case TimeFormat::kAuto:
      if (LooksNumeric(s)) return NumericStringToMs(s, TimeFormat::kAuto);
      return DateTimeToMs(s, spec, received_ms, why);
    default:
      return NumericStringToMs(s, spec.format);
  }
}

TimeStatus CheckEventTimeWindow(int64_t ts_ms, int64_t received_ms, int64_t max_ahead_ms) {
  if (ts_ms < kMinEventTimeMs) return TimeStatus::kTooOld;
  // ts_ms >= kMinEventTimeMs > 0 here, so the subtraction cannot overflow.
  if (ts_ms - max_ahead_ms > received_ms) return TimeStatus::kTooFarAhead;
  return TimeStatus::kPayload;
}

}  // namespace ferry::agent

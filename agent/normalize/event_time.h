// Event time of a message from a value in its payload: the timestamp forms of real device
// fleets (shared/data/devices/README.md), a sanity window, and the receive time as fallback.
// Pure functions, no clock: the caller passes the receive time.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/config/route_options.h"
#include "agent/normalize/date_time.h"
#include "platform/timezone.h"

namespace ferry::agent {

// "auto", "rfc3339", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns"; nullopt for anything else.
std::optional<TimeFormat> ParseTimeFormat(std::string_view name);

// 2000-01-01T00:00:00Z: an earlier event time is a device clock that was never set (or
// seconds since boot, like a Shelly Gen2's "ts":1.61 before SNTP).
inline constexpr int64_t kMinEventTimeMs = 946'684'800'000;
// The default of how far an event time may lie ahead of the receive time and be believed.
inline constexpr int64_t kMaxEventTimeAheadMs = 24 * 3600 * 1000;

// Where a record's `ts` came from, and if not from the payload, why not.
enum class TimeStatus {
  kPayload,     // a payload field, believed
  kMissing,     // the route names no time field, or none of them is present and not null
  kUnparsable,  // the value is not in the route's format
  kNoTimezone,  // a local time without zone, and the route configures no timezone
  kTooOld,      // before 2000-01-01 (never-set clock, seconds since boot)
  kTooFarAhead  // more than the route's max_ahead after the receive time
};
// "payload", "missing", "unparsable", "no_timezone", "too_old", "too_far_ahead".
const char* TimeStatusName(TimeStatus status);

// How a route reads its event time.
struct TimeSpec {
  TimeFormat format = TimeFormat::kAuto;
  platform::TimeZone zone;  // for local times without a zone; invalid: such times are refused
  int64_t max_ahead_ms = kMaxEventTimeAheadMs;
};

// Milliseconds since 1970-01-01T00:00:00Z, truncated (fractions below a millisecond dropped),
// without the window. On failure returns nullopt and sets *why (kUnparsable or kNoTimezone).
//   rfc3339   a string as ParseDateTimeText reads it; with no zone written, a local time in
//             spec.zone (see the DST rule below)
//   epoch_*   an integer or float number, or a string holding one ("1567595328",
//             "1661517385.44"), in that unit
//   auto      a date-time string as rfc3339; a number, or a string holding only a number, by
//             magnitude: < 1e11 s, < 1e14 ms, < 1e17 us, else ns
// DST rule: a local time that the zone's clocks show twice (the hour repeated when they go
// back) or never (the hour skipped when they go forward) has two candidate instants, read
// with the offset before and after the change; the one nearer `received_ms` is taken, the
// earlier one on a tie.
std::optional<int64_t> ParseEventTimeMs(const nlohmann::json& v, const TimeSpec& spec,
                                        int64_t received_ms, TimeStatus* why);

// The window: kTooOld, kTooFarAhead, or kPayload when
// kMinEventTimeMs <= ts_ms <= received_ms + max_ahead_ms.
TimeStatus CheckEventTimeWindow(int64_t ts_ms, int64_t received_ms,
                                int64_t max_ahead_ms = kMaxEventTimeAheadMs);
inline bool InEventTimeWindow(int64_t ts_ms, int64_t received_ms) {
  return CheckEventTimeWindow(ts_ms, received_ms) == TimeStatus::kPayload;
}

}  // namespace ferry::agent

// Event time of a message from a value in its payload. Pure functions, no clock: the caller
// passes the receive time for the sanity window.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ferry::agent {

enum class TimeFormat { kAuto, kRfc3339, kEpochS, kEpochMs, kEpochUs, kEpochNs };

// "auto", "rfc3339", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns"; nullopt for anything else.
std::optional<TimeFormat> ParseTimeFormat(std::string_view name);

// 2000-01-01T00:00:00Z: an earlier event time is a device clock that was never set.
inline constexpr int64_t kMinEventTimeMs = 946'684'800'000;
// How far an event time may lie ahead of the gateway's receive time before it is not believed.
inline constexpr int64_t kMaxEventTimeAheadMs = 24 * 3600 * 1000;

// Milliseconds since 1970-01-01T00:00:00Z, truncated (fractions below a millisecond dropped).
// nullopt when the value does not have the format:
//   rfc3339   a string "YYYY-MM-DD(T|t| )HH:MM:SS[.1-9 digits][Z|z|+HH:MM|+HHMM|-HH:MM|-HHMM]"
//   epoch_*   an integer or float number, or a string holding one ("1567595328", "1661517385.44")
//   auto      a string as rfc3339; a number by magnitude: < 1e11 s, < 1e14 ms, < 1e17 us, else ns
// No window is applied here; see InEventTimeWindow.
std::optional<int64_t> ParseEventTimeMs(const nlohmann::json& v, TimeFormat format);
// As above with the format by name; nullopt for an unknown name.
std::optional<int64_t> ParseEventTimeMs(const nlohmann::json& v, std::string_view format);

// The rfc3339 rule alone, exposed for tests and other sources.
std::optional<int64_t> ParseRfc3339Ms(std::string_view s);

// True if `ts_ms` is believable for a message received at `received_ms`:
// kMinEventTimeMs <= ts_ms <= received_ms + kMaxEventTimeAheadMs.
bool InEventTimeWindow(int64_t ts_ms, int64_t received_ms);

}  // namespace ferry::agent

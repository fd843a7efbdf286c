// Date-time strings of device clocks: RFC 3339 and the zone-less local forms. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::agent {

// A date-time string taken apart. `local_s` is the wall-clock reading as seconds since
// 1970-01-01T00:00:00 of whatever clock wrote it; `offset_s` says which clock, if it says.
struct DateTimeText {
  int64_t local_s = 0;
  int ms = 0;               // fraction of the second, truncated to milliseconds
  bool has_offset = false;  // "Z" or "+hh:mm" / "+hhmm" / "-hh:mm" / "-hhmm" was written
  int offset_s = 0;         // seconds east of UTC when has_offset
};

// Parses "YYYY-MM-DD(T|t| )HH:MM:SS[.f][zone]" where f is 1 to 9 digits and zone is one of
// Z z +HH:MM +HHMM -HH:MM -HHMM or absent (a local time). The date must exist (no Feb 30),
// hours 00-23, minutes 00-59, seconds 00-60 (60: a leap second, read as :00 of the next
// minute), offsets below 24h. nullopt for anything else, also surrounding text or spaces.
std::optional<DateTimeText> ParseDateTimeText(std::string_view s);

// RFC 3339 proper: a date-time with a zone, as milliseconds since the epoch; nullopt for a
// zone-less or malformed string.
std::optional<int64_t> ParseRfc3339Ms(std::string_view s);

}  // namespace ferry::agent

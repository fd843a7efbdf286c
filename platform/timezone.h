// IANA time zones from the operating system's tz database (/usr/share/zoneinfo, Debian's tzdata),
// read through the howardhinnant-date library (Debian's libdate-tz). The only place Ferry looks
// at zone files: zone-less device clocks (Tasmota "Time", rtl_433) are read in a configured zone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::platform {

// What a wall-clock reading in a zone means in UTC. Around a daylight-saving change a local
// time can be ambiguous (the hour that repeats when clocks go back: two instants) or
// nonexistent (the hour skipped when clocks go forward: none; the two candidates are the
// reading taken with the offset before and with the offset after the change).
struct LocalTimeCandidates {
  enum class Kind { kUnique, kAmbiguous, kNonexistent };
  Kind kind = Kind::kUnique;
  int64_t earlier_s = 0;  // seconds since 1970-01-01T00:00:00Z; kUnique: the instant
  int64_t later_s = 0;    // kUnique: equal to earlier_s
};

// A handle to one zone of the tz database. Cheap to copy; the zone's data lives for the
// program and is loaded once, on first use. Thread-safe: all methods are const and may run
// concurrently.
class TimeZone {
 public:
  // A handle to nothing; Resolve must not be called on it.
  TimeZone() = default;

  // The zone called `name` ("Europe/Berlin", "UTC", "America/New_York").
  // kInvalidArgument for an empty name; kNotFound when the tz database has no such zone or
  // cannot be read (the message says which). The first call reads the database's list of
  // zones. Never throws except std::bad_alloc.
  static Result<TimeZone> Find(std::string_view name);

  bool valid() const { return zone_ != nullptr; }
  std::string_view name() const;

  // The UTC instants that the local wall time `local_s` (seconds since 1970-01-01T00:00:00
  // of the zone's clock) can stand for. Never throws.
  LocalTimeCandidates Resolve(int64_t local_s) const;

 private:
  explicit TimeZone(const void* zone) : zone_(zone) {}
  const void* zone_ = nullptr;  // a const date::time_zone*, owned by the library
};

}  // namespace ferry::platform

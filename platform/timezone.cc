#include "platform/timezone.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace ferry::platform {
namespace {

const date::time_zone* AsZone(const void* p) { return static_cast<const date::time_zone*>(p); }

}  // namespace

Result<TimeZone> TimeZone::Find(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("time zone name is empty");
  try {
    const date::time_zone* zone = date::locate_zone(name);
    // The zone's transitions are read on first use; do it here, where an error can be
    // returned, so that Resolve never meets it.
    (void)zone->get_info(date::sys_seconds{});
    return TimeZone(zone);
  } catch (const std::exception& e) {
    // locate_zone throws std::runtime_error for an unknown name and when the database
    // (USE_OS_TZDB: /usr/share/zoneinfo) cannot be read.
    return Status::NotFound("time zone \"" + std::string(name) + "\": " + e.what());
  }
}

std::string_view TimeZone::name() const {
  return zone_ == nullptr ? std::string_view() : std::string_view(AsZone(zone_)->name());
}

LocalTimeCandidates TimeZone::Resolve(int64_t local_s) const {
  using std::chrono::seconds;
  date::local_seconds local{seconds{local_s}};
  date::local_info info = AsZone(zone_)->get_info(local);
  LocalTimeCandidates out;
  int64_t first = local_s - info.first.offset.count();
  switch (info.result) {
    case date::local_info::unique:
      out.earlier_s = out.later_s = first;
      return out;
    case date::local_info::ambiguous:
      out.kind = LocalTimeCandidates::Kind::kAmbiguous;
      break;
    default:
      out.kind = LocalTimeCandidates::Kind::kNonexistent;
      break;
  }
  int64_t second = local_s - info.second.offset.count();
  out.earlier_s = std::min(first, second);
  out.later_s = std::max(first, second);
  return out;
}

}  // namespace ferry::platform

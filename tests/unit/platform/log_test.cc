#include "platform/log.h"
#include "platform/clock.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>

using ferry::platform::FormatRfc3339Millis;

TEST_CASE("RFC 3339 stamps have milliseconds and Z, across the cached seconds") {
  CHECK(FormatRfc3339Millis(0) == "1970-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339Millis(1'763'720'100'123) == "2025-11-21T10:15:00.123Z");
  CHECK(FormatRfc3339Millis(1'763'720'100'999) == "2025-11-21T10:15:00.999Z");
  CHECK(FormatRfc3339Millis(1'763'720'101'000) == "2025-11-21T10:15:01.000Z");
  CHECK(FormatRfc3339Millis(1'600'000'000'007) == "2020-09-13T12:26:40.007Z");
  CHECK(FormatRfc3339Millis(1'763'720'100'050) == "2025-11-21T10:15:00.050Z");
  CHECK(FormatRfc3339Millis(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(FormatRfc3339Millis(951'782'400'000) == "2000-02-29T00:00:00.000Z");
  // Regression (armhf, 32-bit time_t): dates after 2038 must not wrap.
  CHECK(FormatRfc3339Millis(4'102'444'800'000) == "2100-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339Millis(2'147'483'648'000) == "2038-01-19T03:14:08.000Z");
}

TEST_CASE("UTC calendar times are computed in 64 bits") {
  using ferry::platform::ToUtcCivil;
  auto c = ToUtcCivil(4'102'444'799);  // 2099-12-31T23:59:59Z, past a 32-bit time_t
  CHECK(c.year == 2099);
  CHECK(c.month == 12u);
  CHECK(c.day == 31u);
  CHECK(c.hour == 23);
  CHECK(c.minute == 59);
  CHECK(c.second == 59);
  auto before = ToUtcCivil(-86'401);  // 1969-12-30T23:59:59Z
  CHECK(before.year == 1969);
  CHECK(before.day == 30u);
  CHECK(before.second == 59);
}

// What FormatRfc3339Millis wrote before it formatted the digits itself (printf, cut to 23).
std::string PrintfStamp(int64_t unix_ms) {
  int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  int ms = static_cast<int>(unix_ms - secs * 1000);
  ferry::platform::CivilTime c = ferry::platform::ToUtcCivil(secs);
  char buf[24];
  snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", c.year, c.month, c.day, c.hour,
           c.minute, c.second);
  char frac[8];
  snprintf(frac, sizeof frac, ".%03dZ", ms);
  return std::string(buf) + frac;
}

TEST_CASE("RFC 3339 stamps are what printf wrote, also for years before 0 and after 9999") {
  for (int64_t ms :
       {int64_t{0}, int64_t{-1}, int64_t{-62'167'219'200'000}, int64_t{-62'167'219'200'001},
        int64_t{253'402'300'799'999}, int64_t{253'402'300'800'000}, int64_t{-1'000'000'000'000'000},
        int64_t{9'000'000'000'000'000}}) {
    CAPTURE(ms);
    CHECK(FormatRfc3339Millis(ms) == PrintfStamp(ms));
  }
  CHECK(FormatRfc3339Millis(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
  CHECK(FormatRfc3339Millis(253'402'300'800'000) == "10000-01-01T00:00:00.000Z");
  uint64_t x = 88172645463325252ULL;  // xorshift: stamps from 1900 to 2200, and any int
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int64_t ms = i % 2 ? static_cast<int64_t>(x % 9'500'000'000'000ULL) - 2'208'988'800'000
                       : static_cast<int64_t>(x >> 8);
    REQUIRE_MESSAGE(FormatRfc3339Millis(ms) == PrintfStamp(ms), ms);
  }
}

TEST_CASE("AppendRfc3339Millis appends the stamp, from the cache or not") {
  std::string out = "ts=";
  ferry::platform::AppendRfc3339Millis(1'763'720'100'123, out);
  out += ',';
  ferry::platform::AppendRfc3339Millis(1'763'720'100'456, out);  // the same second: cached
  out += ',';
  ferry::platform::AppendRfc3339Millis(-1, out);
  CHECK(out == "ts=2025-11-21T10:15:00.123Z,2025-11-21T10:15:00.456Z,1969-12-31T23:59:59.999Z");
}

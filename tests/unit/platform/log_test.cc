#include "platform/log.h"
#include "platform/clock.h"

#include <doctest/doctest.h>

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

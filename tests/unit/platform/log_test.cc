#include "platform/log.h"

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
}

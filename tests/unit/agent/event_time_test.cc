// Event time: every timestamp form of shared/data/devices/README.md that this stage handles
// (numbers in the comments are the README's), plus the sanity window and the fallbacks.
#include "agent/normalize/event_time.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "agent/normalize/normalizer.h"
#include "platform/log.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

// 2026-11-21T10:15:00.456Z
constexpr int64_t kReceivedMs = 1'795'256'100'456;

std::string Parsed(const json& v, std::string_view format) {
  std::optional<int64_t> ms = ParseEventTimeMs(v, format);
  return ms ? platform::FormatRfc3339Millis(*ms) : "none";
}

struct Case {
  const char* format;
  json value;
  const char* want;  // RFC 3339 ms, or "none"
};

void CheckTable(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    CAPTURE(c.format);
    CAPTURE(c.value.dump());
    CHECK(Parsed(c.value, c.format) == c.want);
  }
}

TEST_CASE("rfc3339 strings parse with 0 to 9 fraction digits, offsets and either separator") {
  CheckTable({
      {"rfc3339", "2026-08-24T20:26:13.369Z", "2026-08-24T20:26:13.369Z"},             // 1
      {"rfc3339", "2020-02-26T20:44:09+01:00", "2020-02-26T19:44:09.000Z"},            // 2
      {"rfc3339", "2022-08-25T21:12:53.828332832Z", "2022-08-25T21:12:53.828Z"},       // 3
      {"rfc3339", "2022-08-25T21:12:53.549410Z", "2022-08-25T21:12:53.549Z"},          // 4
      {"rfc3339", "2020-02-12T15:15:45.787Z", "2020-02-12T15:15:45.787Z"},             // 4
      {"rfc3339", "2023-11-23T00:06:01.156927957+00:00", "2023-11-23T00:06:01.156Z"},  // 5
      {"rfc3339", "2023-02-02T08:04:41.586413+00:00", "2023-02-02T08:04:41.586Z"},     // 5
      {"rfc3339", "2022-12-30T13:50:54+0100", "2022-12-30T12:50:54.000Z"},             // 6
      {"rfc3339", "2020-01-01T23:30:00-05:00", "2020-01-02T04:30:00.000Z"},
      {"rfc3339", "2020-01-01T00:00:00-0530", "2020-01-01T05:30:00.000Z"},
      {"rfc3339", "2020-01-01T00:00:00.5Z", "2020-01-01T00:00:00.500Z"},
      {"rfc3339", "2020-01-01T00:00:00.05Z", "2020-01-01T00:00:00.050Z"},
      {"rfc3339", "2020-01-01t00:00:00z", "2020-01-01T00:00:00.000Z"},
      {"rfc3339", "2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z"},
      {"rfc3339", "2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000Z"},  // leap second
  });
}

TEST_CASE("zone-less local times are taken as UTC until timezones are configurable") {
  CheckTable({
      {"rfc3339", "2021-06-13T06:59:52", "2021-06-13T06:59:52.000Z"},         // 7
      {"rfc3339", "2019-08-29 08:38:19", "2019-08-29T08:38:19.000Z"},         // 8
      {"rfc3339", "2022-03-23 20:11:54.643434", "2022-03-23T20:11:54.643Z"},  // 8
      {"auto", "2021-06-13T06:59:52", "2021-06-13T06:59:52.000Z"},
  });
}

TEST_CASE("strings that are not rfc3339 do not parse") {
  CheckTable({
      {"rfc3339", "time:2022-2-4 18:35:20.785", "none"},  // 9
      {"rfc3339", "14:36", "none"},                       // 10
      {"rfc3339", "9T09:29:01", "none"},                  // 17
      {"rfc3339", "0.061696s", "none"},                   // 17
      {"rfc3339", "2019-01-10T22:16:04qq", "none"},
      {"rfc3339", "0000-00-00T00:00:00", "none"},
      {"rfc3339", "10000-01-01T00:00:00Z", "none"},
      {"rfc3339", "2020-02-12T15:15:46.014773143123+00:00", "none"},  // 12 fraction digits
      {"rfc3339", "2020-01-01T00:00:00.Z", "none"},
      {"rfc3339", "2023-02-29T00:00:00Z", "none"},
      {"rfc3339", "2020-13-01T00:00:00Z", "none"},
      {"rfc3339", "2020-01-01T24:00:00Z", "none"},
      {"rfc3339", "2020-01-01T00:60:00Z", "none"},
      {"rfc3339", "2020-01-01T00:00:00+24:00", "none"},
      {"rfc3339", "2020-01-01T00:00:00+01", "none"},
      {"rfc3339", "2020-01-01", "none"},
      {"rfc3339", "", "none"},
      {"rfc3339", 1546871086, "none"},
      {"auto", "1567595328", "none"},  // auto reads strings as rfc3339 only
  });
}

TEST_CASE("epoch numbers parse in their unit, integer or float, number or numeric string") {
  CheckTable({
      {"epoch_s", 1546871086, "2019-01-07T14:24:46.000Z"},        // 11
      {"epoch_s", "1567595328", "2019-09-04T11:08:48.000Z"},      // 11
      {"epoch_s", 1661517385.44, "2022-08-26T12:36:25.440Z"},     // 12
      {"epoch_s", "1661517385.44", "2022-08-26T12:36:25.440Z"},   // 12
      {"epoch_ms", 1634671913843, "2021-10-19T19:31:53.843Z"},    // 13
      {"epoch_ms", 1634671913843.9, "2021-10-19T19:31:53.843Z"},  // truncated
      {"epoch_us", 1634671913843999, "2021-10-19T19:31:53.843Z"},
      {"epoch_us", 1634671913843999.0, "2021-10-19T19:31:53.843Z"},
      {"epoch_ns", json::parse("1465839830100400200"), "2016-06-13T17:43:50.100Z"},  // 14
      {"epoch_ns", "1465839830100400200", "2016-06-13T17:43:50.100Z"},
      {"epoch_ns", 1.4658398301004002e18, "2016-06-13T17:43:50.100Z"},
      {"epoch_ns", json::parse("18446744073709551615"), "2554-07-21T23:34:33.709Z"},
      {"epoch_s", 1.61, "1970-01-01T00:00:01.610Z"},  // 15: parses; the window refuses it
      {"epoch_s", 1e300, "none"},
      {"epoch_s", json::parse("18446744073709551615"), "none"},
      {"epoch_s", "inf", "none"},
      {"epoch_s", "12abc", "none"},
      {"epoch_s", " 1567595328", "none"},
      {"epoch_s", true, "none"},
      {"epoch_s", nullptr, "none"},
      {"epoch_s", json::object(), "none"},
      {"epoch_minutes", 1546871086, "none"},
  });
}

TEST_CASE("auto decides the epoch unit by magnitude") {
  CheckTable({
      {"auto", 1546871086, "2019-01-07T14:24:46.000Z"},
      {"auto", 1661517385.44, "2022-08-26T12:36:25.440Z"},
      {"auto", 1634671913843, "2021-10-19T19:31:53.843Z"},
      {"auto", 1634671913843999, "2021-10-19T19:31:53.843Z"},
      {"auto", json::parse("1465839830100400200"), "2016-06-13T17:43:50.100Z"},
      {"auto", 1.61, "1970-01-01T00:00:01.610Z"},
      {"auto", "2026-08-24T20:26:13.369Z", "2026-08-24T20:26:13.369Z"},
  });
}

TEST_CASE("the window accepts 2000-01-01 up to one day after receipt") {
  CHECK(InEventTimeWindow(kMinEventTimeMs, kReceivedMs));
  CHECK_FALSE(InEventTimeWindow(kMinEventTimeMs - 1, kReceivedMs));
  CHECK(InEventTimeWindow(kReceivedMs + kMaxEventTimeAheadMs, kReceivedMs));
  CHECK_FALSE(InEventTimeWindow(kReceivedMs + kMaxEventTimeAheadMs + 1, kReceivedMs));
  CHECK_FALSE(InEventTimeWindow(INT64_MAX, kReceivedMs));
  CHECK_FALSE(InEventTimeWindow(INT64_MIN, kReceivedMs));
}

// Normalizes `payload` with a route reading the event time at `field` in `format`.
Normalized WithTimeRule(std::string_view payload, std::string field, std::string format) {
  Route route;
  route.topic = "#";
  route.time = TimeRule{std::move(field), std::move(format)};
  Normalizer normalizer({route});
  Normalized out;
  std::string reason;
  REQUIRE(normalizer.Normalize({"t/x", payload, kReceivedMs}, &out, &reason) == Outcome::kRecord);
  return out;
}

std::string TsOf(const Normalized& n) {
  return platform::FormatRfc3339Millis(n.ts_ms) + (n.ts_from_payload ? " payload" : " received");
}

TEST_CASE("event time comes from a nested payload field") {
  Normalized n = WithTimeRule(
      R"({"src":"shellyplus1pm-4417939341dc","params":{"ts":1661517385.44}})", "params.ts", "auto");
  CHECK(TsOf(n) == "2022-08-26T12:36:25.440Z payload");
  n = WithTimeRule(R"({"last_seen":"2026-08-24T20:26:13.369Z"})", "last_seen", "rfc3339");
  CHECK(TsOf(n) == "2026-08-24T20:26:13.369Z payload");
}

TEST_CASE("event time falls back to the receive time when the payload's is not believable") {
  const std::string received = "2026-11-21T10:15:00.456Z received";
  // Shelly Gen2 before SNTP sync: seconds since boot.
  CHECK(TsOf(WithTimeRule(R"({"params":{"ts":1.61}})", "params.ts", "auto")) == received);
  CHECK(TsOf(WithTimeRule(R"({"tst":946684799})", "tst", "epoch_s")) == received);
  CHECK(TsOf(WithTimeRule(R"({"tst":946684800})", "tst", "epoch_s")) ==
        "2000-01-01T00:00:00.000Z payload");
  CHECK(TsOf(WithTimeRule(R"({"tst":-1})", "tst", "auto")) == received);
  CHECK(TsOf(WithTimeRule(R"({"tst":32503680000})", "tst", "auto")) == received);  // year 3000
  CHECK(TsOf(WithTimeRule(R"({"tst":1795342500456})", "tst", "epoch_ms")) ==
        "2026-11-22T10:15:00.456Z payload");  // exactly one day ahead
  CHECK(TsOf(WithTimeRule(R"({"tst":1795342500457})", "tst", "epoch_ms")) == received);
  // 16: a gateway microsecond counter read as seconds lands in 2064.
  CHECK(TsOf(WithTimeRule(R"({"timestamp":2983740355})", "timestamp", "auto")) == received);
  CHECK(TsOf(WithTimeRule(R"({"state":"ON","last_seen":1690000000000000000})", "last_seen",
                          "epoch_ms")) == received);
}

TEST_CASE("event time falls back to the receive time when the field is missing or unparsable") {
  const std::string received = "2026-11-21T10:15:00.456Z received";
  CHECK(TsOf(WithTimeRule(R"({"temperature":21.5})", "last_seen", "auto")) == received);  // 18
  CHECK(TsOf(WithTimeRule(R"({"params":5})", "params.ts", "auto")) == received);
  CHECK(TsOf(WithTimeRule(R"({"Time":"2019-01-10T22:16:04qq"})", "Time", "auto")) == received);
  CHECK(TsOf(WithTimeRule(R"({"time":"14:36","unixtime":0})", "time", "auto")) == received);
  CHECK(TsOf(WithTimeRule(R"({"unixtime":0})", "unixtime", "epoch_s")) == received);
  CHECK(TsOf(WithTimeRule(R"({"time":""})", "time", "auto")) == received);
  CHECK(TsOf(WithTimeRule(R"({"t":null})", "t", "auto")) == received);
  CHECK(TsOf(WithTimeRule("21.5", "", "auto")) == received);  // no time rule at all
}

}  // namespace
}  // namespace ferry::agent

// Event time: every timestamp form of shared/data/devices/README.md (the numbers in the
// comments are the README's), epoch units, the sanity window, local times and DST edges.
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

platform::TimeZone Zone(const char* name) {
  auto zone = platform::TimeZone::Find(name);
  REQUIRE_MESSAGE(zone.ok(), zone.status().message());
  return *zone;
}

// The parse without window, as "RFC 3339 ms", or "none (<status>)".
std::string Parsed(const json& v, std::string_view format, const char* zone = nullptr,
                   int64_t received_ms = kReceivedMs) {
  TimeSpec spec;
  std::optional<TimeFormat> f = ParseTimeFormat(format);
  REQUIRE(f);
  spec.format = *f;
  if (zone != nullptr) spec.zone = Zone(zone);
  TimeStatus why = TimeStatus::kPayload;
  std::optional<int64_t> ms = ParseEventTimeMs(v, spec, received_ms, &why);
  return ms ? platform::FormatRfc3339Millis(*ms)
            : std::string("none (") + TimeStatusName(why) + ")";
}

struct Case {
  const char* format;
  json value;
  const char* want;  // RFC 3339 ms, or "none (<status>)"
};

void CheckTable(const std::vector<Case>& cases, const char* zone = nullptr) {
  for (const Case& c : cases) {
    CAPTURE(c.format);
    CAPTURE(c.value.dump());
    CHECK(Parsed(c.value, c.format, zone) == c.want);
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
      {"rfc3339", "2020-01-01T00:00:00.9999Z", "2020-01-01T00:00:00.999Z"},  // truncated
      {"rfc3339", "2020-01-01t00:00:00z", "2020-01-01T00:00:00.000Z"},
      {"rfc3339", "2020-01-01 00:00:00Z", "2020-01-01T00:00:00.000Z"},
      {"rfc3339", "2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z"},
      {"rfc3339", "2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000Z"},  // leap second
      {"auto", "2026-08-24T20:26:13.369Z", "2026-08-24T20:26:13.369Z"},
  });
}

TEST_CASE("local times without a zone are read in the configured zone") {
  CheckTable(
      {
          {"rfc3339", "2021-06-13T06:59:52", "2021-06-13T04:59:52.000Z"},      // 7, CEST
          {"auto", "2021-01-13T06:59:52", "2021-01-13T05:59:52.000Z"},         // 7, CET
          {"auto", "2019-08-29 08:38:19", "2019-08-29T06:38:19.000Z"},         // 8
          {"auto", "2022-03-23 20:11:54.643434", "2022-03-23T19:11:54.643Z"},  // 8
          {"auto", "2020-02-26T20:44:09+01:00", "2020-02-26T19:44:09.000Z"},   // zone wins
          {"auto", "2020-07-01T12:00:00Z", "2020-07-01T12:00:00.000Z"},
      },
      "Europe/Berlin");
  CheckTable({{"auto", "2021-06-13T06:59:52", "2021-06-13T10:59:52.000Z"}}, "America/New_York");
  CheckTable({{"auto", "2021-06-13T06:59:52", "2021-06-13T06:59:52.000Z"}}, "UTC");
  CheckTable({{"auto", "2021-06-13T06:59:52", "2021-06-13T16:59:52.000Z"}}, "Pacific/Honolulu");
}

TEST_CASE("local times without a zone are not believed when no zone is configured") {
  CheckTable({
      {"rfc3339", "2021-06-13T06:59:52", "none (no_timezone)"},      // 7
      {"auto", "2019-08-29 08:38:19", "none (no_timezone)"},         // 8
      {"auto", "2022-03-23 20:11:54.643434", "none (no_timezone)"},  // 8
  });
  CHECK_FALSE(ParseRfc3339Ms("2021-06-13T06:59:52"));
  CHECK(ParseRfc3339Ms("2021-06-13T06:59:52Z") == 1'623'567'592'000);
}

TEST_CASE("strings that are not date-times do not parse") {
  CheckTable({
      {"rfc3339", "time:2022-2-4 18:35:20.785", "none (unparsable)"},  // 9
      {"rfc3339", "14:36", "none (unparsable)"},                       // 10
      {"auto", "14:36", "none (unparsable)"},                          // 10
      {"auto", "", "none (unparsable)"},                               // 15
      {"rfc3339", "9T09:29:01", "none (unparsable)"},                  // 17
      {"auto", "000+22:32:01.497", "none (unparsable)"},               // 17
      {"rfc3339", "0.061696s", "none (unparsable)"},                   // 17
      {"auto", "0.061696s", "none (unparsable)"},                      // 17
      {"rfc3339", "2019-01-10T22:16:04qq", "none (unparsable)"},
      {"rfc3339", "0000-00-00T00:00:00", "none (unparsable)"},
      {"rfc3339", "10000-01-01T00:00:00Z", "none (unparsable)"},
      {"rfc3339", "2020-02-12T15:15:46.014773143123+00:00", "none (unparsable)"},  // 12 digits
      {"rfc3339", "2020-01-01T00:00:00.Z", "none (unparsable)"},
      {"rfc3339", "2023-02-29T00:00:00Z", "none (unparsable)"},
      {"rfc3339", "2020-13-01T00:00:00Z", "none (unparsable)"},
      {"rfc3339", "2020-01-01T24:00:00Z", "none (unparsable)"},
      {"rfc3339", "2020-01-01T00:60:00Z", "none (unparsable)"},
      {"rfc3339", "2020-01-01T00:00:00+24:00", "none (unparsable)"},
      {"rfc3339", "2020-01-01T00:00:00+01", "none (unparsable)"},
      {"rfc3339", "2020-01-01", "none (unparsable)"},
      {"rfc3339", " 2020-01-01T00:00:00Z", "none (unparsable)"},
      {"rfc3339", "", "none (unparsable)"},
      {"rfc3339", 1546871086, "none (unparsable)"},
      {"rfc3339", "1567595328", "none (unparsable)"},
      {"auto", true, "none (unparsable)"},
      {"auto", json::object(), "none (unparsable)"},
      {"auto", json::array({1}), "none (unparsable)"},
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
      {"epoch_ms", "1650006388943", "2022-04-15T07:06:28.943Z"},  // 13
      {"epoch_us", 1634671913843999, "2021-10-19T19:31:53.843Z"},
      {"epoch_us", 1634671913843999.0, "2021-10-19T19:31:53.843Z"},
      {"epoch_ns", json::parse("1465839830100400200"), "2016-06-13T17:43:50.100Z"},  // 14
      {"epoch_ns", "1465839830100400200", "2016-06-13T17:43:50.100Z"},
      {"epoch_ns", 1.4658398301004002e18, "2016-06-13T17:43:50.100Z"},
      {"epoch_ns", json::parse("18446744073709551615"), "2554-07-21T23:34:33.709Z"},
      {"epoch_ns", "18446744073709551615", "2554-07-21T23:34:33.709Z"},
      {"epoch_s", 1.61, "1970-01-01T00:00:01.610Z"},  // 15: parses; the window refuses it
      {"epoch_s", 0, "1970-01-01T00:00:00.000Z"},     // 15
      {"epoch_s", -1, "1969-12-31T23:59:59.000Z"},
      {"epoch_ms", -1, "1969-12-31T23:59:59.999Z"},
      {"epoch_s", 1e300, "none (unparsable)"},
      {"epoch_s", json::parse("18446744073709551615"), "none (unparsable)"},
      {"epoch_s", "inf", "none (unparsable)"},
      {"epoch_s", "nan", "none (unparsable)"},
      {"epoch_s", "12abc", "none (unparsable)"},
      {"epoch_s", " 1567595328", "none (unparsable)"},
      {"epoch_s", "1e9", "none (unparsable)"},
      {"epoch_s", true, "none (unparsable)"},
      {"epoch_s", nullptr, "none (unparsable)"},
      {"epoch_s", json::object(), "none (unparsable)"},
      {"epoch_s", "2020-01-01T00:00:00Z", "none (unparsable)"},
  });
  CHECK_FALSE(ParseTimeFormat("epoch_minutes"));
  CHECK_FALSE(ParseTimeFormat(""));
}

TEST_CASE("auto decides the epoch unit by magnitude, also in numeric strings") {
  CheckTable({
      {"auto", 1546871086, "2019-01-07T14:24:46.000Z"},                          // s
      {"auto", 99'999'999'999, "5138-11-16T09:46:39.000Z"},                      // < 1e11: still s
      {"auto", 100'000'000'000, "1973-03-03T09:46:40.000Z"},                     // 1e11: ms
      {"auto", 1661517385.44, "2022-08-26T12:36:25.440Z"},                       // s, float
      {"auto", 1634671913843, "2021-10-19T19:31:53.843Z"},                       // ms
      {"auto", 99'999'999'999'999, "5138-11-16T09:46:39.999Z"},                  // < 1e14: still ms
      {"auto", 1634671913843999, "2021-10-19T19:31:53.843Z"},                    // us
      {"auto", json::parse("1465839830100400200"), "2016-06-13T17:43:50.100Z"},  // ns
      {"auto", 1.4658398301004002e18, "2016-06-13T17:43:50.100Z"},               // ns, float
      {"auto", 1.61, "1970-01-01T00:00:01.610Z"},
      {"auto", "1567595328", "2019-09-04T11:08:48.000Z"},
      {"auto", "1634671913843", "2021-10-19T19:31:53.843Z"},
      {"auto", "1465839830100400200", "2016-06-13T17:43:50.100Z"},
      {"auto", "1661517385.44", "2022-08-26T12:36:25.440Z"},
      {"auto", "-1", "1969-12-31T23:59:59.000Z"},
      {"auto", "1.2.3", "none (unparsable)"},
  });
}

TEST_CASE("the window accepts 2000-01-01 up to max_ahead after receipt") {
  CHECK(CheckEventTimeWindow(kMinEventTimeMs, kReceivedMs) == TimeStatus::kPayload);
  CHECK(CheckEventTimeWindow(kMinEventTimeMs - 1, kReceivedMs) == TimeStatus::kTooOld);
  CHECK(CheckEventTimeWindow(kReceivedMs + kMaxEventTimeAheadMs, kReceivedMs) ==
        TimeStatus::kPayload);
  CHECK(CheckEventTimeWindow(kReceivedMs + kMaxEventTimeAheadMs + 1, kReceivedMs) ==
        TimeStatus::kTooFarAhead);
  CHECK(CheckEventTimeWindow(kReceivedMs + 60'001, kReceivedMs, 60'000) ==
        TimeStatus::kTooFarAhead);
  CHECK(CheckEventTimeWindow(kReceivedMs + 60'000, kReceivedMs, 60'000) == TimeStatus::kPayload);
  CHECK(CheckEventTimeWindow(kReceivedMs + 1, kReceivedMs, 0) == TimeStatus::kTooFarAhead);
  CHECK(CheckEventTimeWindow(INT64_MAX, kReceivedMs) == TimeStatus::kTooFarAhead);
  CHECK(CheckEventTimeWindow(INT64_MIN, kReceivedMs) == TimeStatus::kTooOld);
  CHECK(InEventTimeWindow(kReceivedMs, kReceivedMs));
}

// Europe/Berlin 2026: clocks go forward at 2026-03-29T01:00:00Z (02:00 CET -> 03:00 CEST) and
// back at 2026-10-25T01:00:00Z (03:00 CEST -> 02:00 CET).
constexpr int64_t kSpring = 1'774'746'000'000;  // 2026-03-29T01:00:00Z
constexpr int64_t kAutumn = 1'792'890'000'000;  // 2026-10-25T01:00:00Z

std::string Local(const char* text, int64_t received_ms) {
  return Parsed(text, "auto", "Europe/Berlin", received_ms);
}

TEST_CASE("DST: a local time the clocks show twice takes the occurrence nearer the receipt") {
  // 02:30 local on 2026-10-25 is 00:30Z (CEST, first) and 01:30Z (CET, second).
  CHECK(Local("2026-10-25T02:30:00", kAutumn - 30 * 60'000) == "2026-10-25T00:30:00.000Z");
  CHECK(Local("2026-10-25T02:30:00", kAutumn + 30 * 60'000) == "2026-10-25T01:30:00.000Z");
  CHECK(Local("2026-10-25T02:30:00", kAutumn) == "2026-10-25T00:30:00.000Z");  // tie: earlier
  CHECK(Local("2026-10-25T02:00:00", kAutumn - 30 * 60'000) == "2026-10-25T00:00:00.000Z");
  CHECK(Local("2026-10-25T02:00:00", kAutumn) == "2026-10-25T01:00:00.000Z");
  CHECK(Local("2026-10-25T02:59:59.999", kAutumn + 3'600'000) == "2026-10-25T01:59:59.999Z");
  // Buffered data received long after: the later occurrence is nearer.
  CHECK(Local("2021-10-31T02:30:00", kReceivedMs) == "2021-10-31T01:30:00.000Z");
  // Received long before (a clock far ahead): the earlier one.
  CHECK(Local("2026-10-25T02:30:00", 0) == "2026-10-25T00:30:00.000Z");
  // Just outside the repeated hour: unique.
  CHECK(Local("2026-10-25T01:59:59", kReceivedMs) == "2026-10-24T23:59:59.000Z");
  CHECK(Local("2026-10-25T03:00:00", 0) == "2026-10-25T02:00:00.000Z");
}

TEST_CASE("DST: a local time the clocks skip takes the reading nearer the receipt") {
  // 02:30 local on 2026-03-29 does not exist: 01:30Z read with CET, 00:30Z read with CEST.
  CHECK(Local("2026-03-29T02:30:00", kSpring + 30 * 60'000) == "2026-03-29T01:30:00.000Z");
  CHECK(Local("2026-03-29T02:30:00", kSpring - 30 * 60'000) == "2026-03-29T00:30:00.000Z");
  CHECK(Local("2026-03-29T02:00:00", kSpring) == "2026-03-29T01:00:00.000Z");  // 02:00 CET
  CHECK(Local("2026-03-29T02:30:00", kReceivedMs) == "2026-03-29T01:30:00.000Z");
  // Just outside the gap: unique.
  CHECK(Local("2026-03-29T01:59:59", kReceivedMs) == "2026-03-29T00:59:59.000Z");
  CHECK(Local("2026-03-29T03:00:00", 0) == "2026-03-29T01:00:00.000Z");
}

TEST_CASE("DST rules of other hemispheres and zones come from the tz database") {
  // Australia/Sydney goes back on 2026-04-05 03:00 AEDT -> 02:00 AEST.
  CHECK(Parsed("2026-04-05T02:30:00", "auto", "Australia/Sydney", 0) == "2026-04-04T15:30:00.000Z");
  CHECK(Parsed("2026-04-05T02:30:00", "auto", "Australia/Sydney", kReceivedMs) ==
        "2026-04-04T16:30:00.000Z");
  // Asia/Kolkata: +05:30, no DST.
  CHECK(Parsed("2026-06-01T12:00:00", "auto", "Asia/Kolkata") == "2026-06-01T06:30:00.000Z");
}

TEST_CASE("unknown time zones are refused by name") {
  auto zone = platform::TimeZone::Find("Europe/Berln");
  REQUIRE_FALSE(zone.ok());
  CHECK(zone.status().code() == platform::Code::kNotFound);
  CHECK(zone.status().message().find("Europe/Berln") != std::string::npos);
  CHECK(platform::TimeZone::Find("").status().code() == platform::Code::kInvalidArgument);
  CHECK(Zone("Europe/Berlin").name() == "Europe/Berlin");
}

// Normalizes `payload` with a route reading the event time at `field` in `format`.
Normalized WithTimeRule(std::string_view payload, std::string field, std::string format,
                        std::string timezone = "") {
  Route route;
  route.topic = "#";
  route.time.field = std::move(field);
  route.time.format = *ParseTimeFormat(format);
  route.time.timezone = std::move(timezone);
  Normalizer normalizer({route});
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(normalizer.Normalize({"t/x", payload, kReceivedMs}, &out, &reason) == Outcome::kRecord);
  return out;
}

std::string TsOf(const Normalized& n) {
  return platform::FormatRfc3339Millis(n.ts_ms) + (n.ts_from_payload ? " payload" : " received") +
         " " + TimeStatusName(n.ts_status);
}

TEST_CASE("event time comes from a nested payload field") {
  CHECK(TsOf(WithTimeRule(R"({"src":"shellyplus1pm-44","params":{"ts":1661517385.44}})",
                          "params.ts", "auto")) == "2022-08-26T12:36:25.440Z payload payload");
  CHECK(TsOf(WithTimeRule(R"({"last_seen":"2026-08-24T20:26:13.369Z"})", "last_seen", "rfc3339")) ==
        "2026-08-24T20:26:13.369Z payload payload");
  CHECK(TsOf(WithTimeRule(R"({"metrics":[{"timestamp":1458229140}]})", "metrics.0.timestamp",
                          "auto")) == "2016-03-17T15:39:00.000Z payload payload");
}

TEST_CASE("of several time fields the first believable one wins") {
  const char* both = R"({"Time":"2019-09-04T13:08:48","Epoch":1567595328})";
  CHECK(TsOf(WithTimeRule(both, "Epoch, Time", "auto", "Europe/Berlin")) ==
        "2019-09-04T11:08:48.000Z payload payload");
  CHECK(TsOf(WithTimeRule(R"({"Time":"2019-09-04T13:08:48"})", "Epoch, Time", "auto",
                          "Europe/Berlin")) == "2019-09-04T11:08:48.000Z payload payload");
  CHECK(TsOf(WithTimeRule(R"({"Epoch":0,"Time":"2019-09-04T13:08:48"})", "Epoch,Time", "auto",
                          "Europe/Berlin")) == "2019-09-04T11:08:48.000Z payload payload");
  // None believable: the status of the first present one.
  CHECK(TsOf(WithTimeRule(R"({"Epoch":0,"Time":"x"})", "Epoch,Time", "auto")) ==
        "2026-11-21T10:15:00.456Z received too_old");
}

TEST_CASE("event time falls back to the receive time when the payload's is not believable") {
  const std::string received = "2026-11-21T10:15:00.456Z received ";
  // Shelly Gen2 before SNTP sync: seconds since boot.
  CHECK(TsOf(WithTimeRule(R"({"params":{"ts":1.61}})", "params.ts", "auto")) ==
        received + "too_old");
  CHECK(TsOf(WithTimeRule(R"({"tst":946684799})", "tst", "epoch_s")) == received + "too_old");
  CHECK(TsOf(WithTimeRule(R"({"tst":946684800})", "tst", "epoch_s")) ==
        "2000-01-01T00:00:00.000Z payload payload");
  CHECK(TsOf(WithTimeRule(R"({"tst":-1})", "tst", "auto")) == received + "too_old");
  CHECK(TsOf(WithTimeRule(R"({"tst":32503680000})", "tst", "auto")) ==
        received + "too_far_ahead");  // year 3000
  CHECK(TsOf(WithTimeRule(R"({"tst":1795342500456})", "tst", "epoch_ms")) ==
        "2026-11-22T10:15:00.456Z payload payload");  // exactly one day ahead
  CHECK(TsOf(WithTimeRule(R"({"tst":1795342500457})", "tst", "epoch_ms")) ==
        received + "too_far_ahead");
  // 16: a gateway microsecond counter read as seconds lands in 2064.
  CHECK(TsOf(WithTimeRule(R"({"timestamp":2983740355})", "timestamp", "auto")) ==
        received + "too_far_ahead");
  CHECK(TsOf(WithTimeRule(R"({"state":"ON","last_seen":1690000000000000000})", "last_seen",
                          "epoch_ms")) == received + "too_far_ahead");
  CHECK(TsOf(WithTimeRule(R"({"Time":"2021-06-13T06:59:52"})", "Time", "auto")) ==
        received + "no_timezone");
}

TEST_CASE("a configured max_ahead narrows the window") {
  Route route;
  route.topic = "#";
  route.time.field = "t";
  route.time.max_ahead_ms = 5 * 60'000;
  Normalizer n({route});
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(n.Normalize({"x", R"({"t":1795256400456})", kReceivedMs}, &out, &reason) ==
          Outcome::kRecord);  // 5 min ahead
  CHECK(TsOf(out) == "2026-11-21T10:20:00.456Z payload payload");
  REQUIRE(n.Normalize({"x", R"({"t":1795256400457})", kReceivedMs}, &out, &reason) ==
          Outcome::kRecord);
  CHECK(TsOf(out) == "2026-11-21T10:15:00.456Z received too_far_ahead");
}

TEST_CASE("event time falls back to the receive time when the field is missing or unparsable") {
  const std::string received = "2026-11-21T10:15:00.456Z received ";
  CHECK(TsOf(WithTimeRule(R"({"temperature":21.5})", "last_seen", "auto")) ==
        received + "missing");  // 18
  CHECK(TsOf(WithTimeRule(R"({"params":5})", "params.ts", "auto")) == received + "missing");
  CHECK(TsOf(WithTimeRule(R"({"Time":"2019-01-10T22:16:04qq"})", "Time", "auto")) ==
        received + "unparsable");
  CHECK(TsOf(WithTimeRule(R"({"time":"14:36","unixtime":0})", "time", "auto")) ==
        received + "unparsable");
  CHECK(TsOf(WithTimeRule(R"({"unixtime":0})", "unixtime", "epoch_s")) == received + "too_old");
  CHECK(TsOf(WithTimeRule(R"({"time":""})", "time", "auto")) == received + "unparsable");
  CHECK(TsOf(WithTimeRule(R"({"t":null})", "t", "auto")) == received + "missing");
  CHECK(TsOf(WithTimeRule("21.5", "", "auto")) == received + "missing");  // no time rule
}

}  // namespace
}  // namespace ferry::agent

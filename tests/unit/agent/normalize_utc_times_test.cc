// utc_times: times found in data fields rewritten as UTC RFC 3339 strings.
#include <doctest/doctest.h>

#include <string>

#include "agent/normalize/normalizer.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

json DataOf(const Route& route, std::string_view payload) {
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(Normalizer({route}).Normalize({"t", payload, 1'795'256'100'000}, &out, &reason) ==
          Outcome::kRecord);
  return out.data;
}

TEST_CASE("utc_times rewrites local, offset and epoch times in the data as UTC") {
  Route r;
  r.topic = "t";
  r.time.timezone = "Europe/Berlin";
  r.utc_times = "start, seen, epoch, nested.at";
  json data = DataOf(r, R"({"start":"2021-11-17T16:12:22","seen":"2020-02-26T20:44:09+01:00",
      "epoch":1634671913843,"nested":{"at":"2026-07-01 12:00:00"},"other":"2021-11-17T16:12:22"})");
  CHECK(data["start"] == "2021-11-17T15:12:22.000Z");
  CHECK(data["seen"] == "2020-02-26T19:44:09.000Z");
  CHECK(data["epoch"] == "2021-10-19T19:31:53.843Z");
  CHECK(data["nested"]["at"] == "2026-07-01T10:00:00.000Z");  // CEST
  CHECK(data["other"] == "2021-11-17T16:12:22");              // not named: as it was
}

TEST_CASE("utc_times leaves what does not parse, and local times without a zone, as they were") {
  Route r;
  r.topic = "t";
  r.utc_times = "a, b, c, d";
  json data = DataOf(r, R"({"a":"14:36","b":"2021-11-17T16:12:22","c":null,"d":1.61})");
  CHECK(data["a"] == "14:36");
  CHECK(data["b"] == "2021-11-17T16:12:22");  // no time.timezone: not believed
  CHECK(data["c"].is_null());
  CHECK(data["d"] == 1.61);  // before 2000: a clock never set, left as it was
}

TEST_CASE("utc_times names the data after data_field and the field operations") {
  Route r;
  r.topic = "t";
  r.data_field = "params";
  r.rename = {{"ts", "when"}};
  r.utc_times = "when";
  r.time.format = TimeFormat::kEpochS;
  CHECK(DataOf(r, R"({"params":{"ts":1661517385.44}})") ==
        json{{"when", "2022-08-26T12:36:25.440Z"}});
}

}  // namespace
}  // namespace ferry::agent

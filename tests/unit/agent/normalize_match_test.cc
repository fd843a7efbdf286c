// Routes chosen by payload content (match, match_pattern), text extraction with named groups
// (extract), scale/offset before rename (scale_first), and Normalizer::Explain.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/normalize/extract.h"
#include "agent/normalize/normalizer.h"
#include "agent/normalize/route_match.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

constexpr int64_t kReceivedMs = 1'795'256'100'000;

struct Run {
  Outcome outcome;
  Normalized out;
  std::string reason;
  DeadLetterCode code = DeadLetterCode::kInvalidMessage;  // a dead letter's
};

Run Normalize(const Normalizer& n, std::string_view topic, std::string_view payload) {
  Run r;
  DeadLetterReason why;
  r.outcome = n.Normalize({topic, payload, kReceivedMs}, &r.out, &why);
  r.reason = why.text;
  r.code = why.code;
  return r;
}

Route Labelled(std::string name) {
  Route r;
  r.topic = "rtl_433/{host}/events";
  r.labels["route"] = std::move(name);
  return r;
}

std::vector<Route> ModelRoutes() {
  Route fahrenheit = Labelled("fahrenheit");
  fahrenheit.match = {{"model", "Acurite-Tower, Acurite-606TX"}, {"temperature_unit", "F"}};
  Route wh = Labelled("fineoffset");
  wh.match_pattern = {{"model", "^Fineoffset-WH(2|5)$"}};
  return {fahrenheit, wh, Labelled("other")};
}

TEST_CASE("match picks a route by payload values: one of a list, all conditions") {
  Normalizer n(ModelRoutes());
  auto route = [&](std::string_view payload) {
    Run r = Normalize(n, "rtl_433/pi/events", payload);
    REQUIRE(r.outcome == Outcome::kRecord);
    return r.out.labels.at("route");
  };
  CHECK(route(R"({"model":"Acurite-Tower","temperature_unit":"F"})") == "fahrenheit");
  CHECK(route(R"({"model":"Acurite-606TX","temperature_unit":"F"})") == "fahrenheit");
  CHECK(route(R"({"model":"Acurite-Tower","temperature_unit":"C"})") == "other");
  CHECK(route(R"({"model":"Acurite-Tower"})") == "other");
  CHECK(route(R"({"model":"Fineoffset-WH5"})") == "fineoffset");
  CHECK(route(R"({"model":"Fineoffset-WH25"})") == "other");
  CHECK(route(R"({"model":["Acurite-Tower"],"temperature_unit":"F"})") == "other");
}

TEST_CASE("match compares numbers and bools as text") {
  Route r = Labelled("one");
  r.match = {{"channel", "1, 2"}, {"ok", "true"}};
  Normalizer n({r, Labelled("other")});
  CHECK(Normalize(n, "rtl_433/a/events", R"({"channel":2,"ok":true})").out.labels.at("route") ==
        "one");
  CHECK(Normalize(n, "rtl_433/a/events", R"({"channel":"1","ok":true})").out.labels.at("route") ==
        "one");
  CHECK(Normalize(n, "rtl_433/a/events", R"({"channel":1.5,"ok":true})").out.labels.at("route") ==
        "other");
}

TEST_CASE("a payload that a conditional route cannot decode does not match it") {
  Route json_only = Labelled("json");
  json_only.payload = PayloadMode::kJson;
  json_only.match = {{"model", "x"}};
  Normalizer n({json_only, Labelled("other")});
  Run r = Normalize(n, "rtl_433/a/events", "plain text");
  REQUIRE(r.outcome == Outcome::kRecord);
  CHECK(r.out.labels.at("route") == "other");
  CHECK(r.out.data == json{{"value", "plain text"}});
}

TEST_CASE("explain says why each earlier route was passed over") {
  std::vector<Route> routes = ModelRoutes();
  Route shaped;
  shaped.topic = "rtl_433/#";
  shaped.payload_shape = PayloadShape::kArray;
  Route other;
  other.topic = "other/#";
  routes.insert(routes.begin(), {other, shaped});
  Normalizer n(routes);
  CHECK(n.Explain({"rtl_433/pi/events", R"({"model":"Acurite-986"})", kReceivedMs}) ==
        std::vector<std::string>{
            "route 0 (topic \"other/#\"): topic does not match",
            "route 1 (topic \"rtl_433/#\"): payload_shape does not match",
            "route 2 (topic \"rtl_433/{host}/events\"): match \"model\": \"Acurite-986\" is not "
            "one of Acurite-Tower, Acurite-606TX",
            "route 3 (topic \"rtl_433/{host}/events\"): match_pattern \"model\": \"Acurite-986\" "
            "does not match ^Fineoffset-WH(2|5)$",
        });
  CHECK(n.Explain({"rtl_433/pi/events", R"({"x":1})", kReceivedMs})[2] ==
        "route 2 (topic \"rtl_433/{host}/events\"): match \"model\": missing");
  CHECK(n.Explain({"rtl_433/pi/events", "{bad", kReceivedMs})[2].starts_with(
      "route 2 (topic \"rtl_433/{host}/events\"): match: the payload does not decode: invalid "
      "JSON at byte"));
}

TEST_CASE("match and pattern errors name the entry") {
  CHECK(CheckMatchValues({{"model", "a, b"}}) == "");
  CHECK(CheckMatchValues({{"model", " , "}}) == "\"model\": must list at least one value");
  CHECK(CheckMatchValues({{"a..b", "x"}}).starts_with("\"a..b\": path must be a dotted path"));
  CHECK(CheckMatchPatterns({{"model", "^(a|b)$"}}) == "");
  CHECK(CheckMatchPatterns({{"model", "(a"}}).starts_with("\"model\": not an RE2 pattern: "));
  CHECK(CheckMatchPatterns({{"model", "(a)\\1"}}).starts_with("\"model\": not an RE2 pattern"));
}

TEST_CASE("extract turns named groups into typed fields next to the text") {
  Route r;
  r.topic = "sensors/{device}";
  r.payload = PayloadMode::kText;
  r.extract = {
      {"value", "^T=(?P<temp_c>-?[0-9.]+)C H=(?P<humidity>[0-9]+)%(?: B=(?P<bat>\\w+))?$"}};
  Normalizer n({r});
  Run run = Normalize(n, "sensors/attic", "T=-3.5C H=40%");
  REQUIRE(run.outcome == Outcome::kRecord);
  CHECK(run.out.data == json{{"value", "T=-3.5C H=40%"}, {"temp_c", -3.5}, {"humidity", 40}});
  run = Normalize(n, "sensors/attic", "T=21C H=5% B=low");
  CHECK(run.out.data["bat"] == "low");
  run = Normalize(n, "sensors/attic", "hello");
  CHECK(run.outcome == Outcome::kDeadLetter);
  CHECK(run.reason == "validation failed: extract \"value\": no match");
}

TEST_CASE("extract reads a nested string field and serves device and time") {
  Route r;
  r.topic = "hub";
  r.extract = {{"msg.text", "dev:(?P<dev>\\w+) at (?P<at>\\d+)"}};
  r.device_field = "msg.dev";
  r.time.field = "msg.at";
  Normalizer n({r});
  Run run = Normalize(n, "hub", R"({"msg":{"text":"dev:k2 at 1795256000"}})");
  REQUIRE(run.outcome == Outcome::kRecord);
  CHECK(run.out.device == "k2");
  CHECK(run.out.ts_ms == 1'795'256'000'000);
}

TEST_CASE("a pattern that would make a backtracking engine hang runs in linear time") {
  Route r;
  r.topic = "t";
  r.payload = PayloadMode::kText;
  r.extract = {{"value", "^(?P<a>(a+)+)$"}};
  Normalizer n({r});
  std::string hostile(100000, 'a');
  hostile += '!';
  Run run = Normalize(n, "t", hostile);
  CHECK(run.outcome == Outcome::kDeadLetter);
  CHECK(run.reason == "validation failed: extract \"value\": no match");
}

TEST_CASE("extract errors name the entry") {
  CHECK(CheckExtract({{"value", "(?P<t>[0-9]+)"}}) == "");
  CHECK(CheckExtract({{"value", "([0-9]+)"}}) ==
        "\"value\": the pattern has no named group like (?P<temp_c>[0-9.]+)");
  CHECK(CheckExtract({{"value", "(?P<t>[0-9]+"}}).starts_with("\"value\": not an RE2 pattern: "));
}

TEST_CASE("scale_first converts before rename, so that two units merge into one field") {
  Route r;
  r.topic = "t";
  r.scale = {{"temperature_F", "5/9"}};
  r.offset = {{"temperature_F", "-17.77777777777778"}};
  r.rename = {{"temperature_F", "temperature_C"}};
  r.scale_first = true;
  Normalizer n({r});
  Run run = Normalize(n, "t", R"({"temperature_F":56.3})");
  REQUIRE(run.outcome == Outcome::kRecord);
  REQUIRE(run.out.data.contains("temperature_C"));
  CHECK(run.out.data["temperature_C"].get<double>() == doctest::Approx(13.5).epsilon(1e-9));
  CHECK(Normalize(n, "t", R"({"temperature_C":22.6})").out.data == json{{"temperature_C", 22.6}});
  // Without scale_first the paths name the renamed fields: the scale finds nothing.
  r.scale_first = false;
  Run late = Normalize(Normalizer({r}), "t", R"({"temperature_F":56.3})");
  CHECK(late.out.data == json{{"temperature_C", 56.3}});
}

}  // namespace
}  // namespace ferry::agent

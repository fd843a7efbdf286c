// Route features around the payload: double-encoded JSON, empty payloads, payload_shape,
// value_type, {captures} in value_field and labels, data_field, influx payloads.
#include <doctest/doctest.h>

#include <string>

#include "agent/normalize/normalizer.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

struct Run {
  Outcome outcome;
  Normalized out;
  std::string reason;
  DeadLetterCode code = DeadLetterCode::kInvalidMessage;  // a dead letter's
};

Run Normalize(const Normalizer& n, std::string_view topic, std::string_view payload) {
  Run r;
  DeadLetterReason why;
  r.outcome = n.Normalize({topic, payload, 1'795'256'100'000}, &r.out, &why);
  r.reason = why.text;
  r.code = why.code;
  return r;
}

Route MakeRoute(std::string topic) {
  Route r;
  r.topic = std::move(topic);
  return r;
}

TEST_CASE("a JSON string holding JSON is decoded as that JSON") {
  Normalizer n(std::vector<Route>{});
  CHECK(Normalize(n, "t", R"("{\"temperature\":21.5}")").out.data == json{{"temperature", 21.5}});
  CHECK(Normalize(n, "t", R"(" [1,2] ")").out.data == json{{"value", {1, 2}}});
  CHECK(Normalize(n, "t", R"("{not json")").out.data == json{{"value", "{not json"}});
  CHECK(Normalize(n, "t", R"("hello")").out.data == json{{"value", "hello"}});
  CHECK(Normalize(n, "t", R"("\"{\\\"a\\\":1}\"")").out.data ==
        json{{"value", "\"{\\\"a\\\":1}\""}});
}

TEST_CASE("an empty payload is dead-lettered, a null value or ignored, as the route says") {
  Route dead = MakeRoute("d/#");
  Route null = MakeRoute("n/{device}/{attr}");
  null.empty_payload = EmptyPayload::kNull;
  null.value_field = "{attr}";
  Route ignore = MakeRoute("i/#");
  ignore.empty_payload = EmptyPayload::kIgnore;
  Normalizer n({dead, null, ignore});
  Run r = Normalize(n, "d/x", "");
  CHECK(r.outcome == Outcome::kDeadLetter);
  CHECK(r.reason == "empty payload");
  r = Normalize(n, "n/z1/identify", "");
  REQUIRE(r.outcome == Outcome::kRecord);
  CHECK(r.out.data == json{{"identify", nullptr}});
  CHECK(r.out.device == "z1");
  CHECK(Normalize(n, "i/x", "").outcome == Outcome::kIgnored);
  CHECK(Normalize(n, "i/x", "1").outcome == Outcome::kRecord);
  CHECK(Normalize(n, "n/z1/identify", " ").reason == "payload is only whitespace");
}

TEST_CASE("payload_shape picks between routes on the same topic") {
  Route object = MakeRoute("z/{device}");
  object.payload_shape = PayloadShape::kObject;
  object.labels = {{"route", "object"}};
  Route array = MakeRoute("z/{device}");
  array.payload_shape = PayloadShape::kArray;
  array.labels = {{"route", "array"}};
  Route scalar = MakeRoute("z/{device}/{attr}");
  scalar.payload_shape = PayloadShape::kScalar;
  scalar.labels = {{"route", "scalar"}};
  Normalizer n({scalar, object, array});
  CHECK(Normalize(n, "z/kitchen/light", R"( {"a":1})").out.labels.at("route") == "object");
  CHECK(Normalize(n, "z/kitchen/light", "\n[1]").out.labels.at("route") == "array");
  CHECK(Normalize(n, "z/kitchen/light", "ON").out.labels.at("route") == "scalar");
  CHECK(Normalize(n, "z/kitchen/light", "").out.route == 0);  // then dead-lettered: empty
  CHECK(Normalize(n, "z/kitchen/light", R"("quoted")").out.labels.at("route") == "scalar");
  CHECK(Normalize(n, "z/kitchen/light", R"({"a":1})").out.device == "kitchen/light");
  CHECK(Normalize(n, "z/kitchen/light", R"({"a":1})").out.route == 1);
  CHECK(Normalize(n, "other", "1").out.route == -1);
}

TEST_CASE("value_type casts a scalar payload, not an object's fields") {
  Route r = MakeRoute("r/{channel}");
  r.value_field = "relay_{channel}";
  r.value_type = ValueType::kBool;
  Normalizer n({r});
  CHECK(Normalize(n, "r/0", "on").out.data == json{{"relay_0", true}});
  CHECK(Normalize(n, "r/1", "OFF").out.data == json{{"relay_1", false}});
  CHECK(Normalize(n, "r/1", "0").out.data == json{{"relay_1", false}});
  CHECK(Normalize(n, "r/1", "maybe").out.data == json{{"relay_1", nullptr}});
  CHECK(Normalize(n, "r/1", R"({"relay":"on"})").out.data == json{{"relay", "on"}});
  Route f = MakeRoute("f");
  f.value_type = ValueType::kFloat;
  CHECK(Normalize(Normalizer({f}), "f", "nan").out.data == json{{"value", nullptr}});
  CHECK(Normalize(Normalizer({f}), "f", "21").out.data == json{{"value", 21.0}});
}

TEST_CASE("labels fill in captures; static labels are copied") {
  Route r = MakeRoute("shellies/{device}/emeter/{channel}/{quantity}");
  r.value_field = "{quantity}";
  r.labels = {{"channel", "{channel}"}, {"site", "plant-7"}, {"what", "{quantity}/{nope}"}};
  Normalizer n({r});
  Run run = Normalize(n, "shellies/shellies/shellyem3/emeter/1/voltage", "0.12");
  CHECK(run.out.device == "shellies/shellyem3");
  CHECK(run.out.data == json{{"voltage", 0.12}});
  CHECK(run.out.labels == std::map<std::string, std::string>{
                              {"channel", "1"}, {"site", "plant-7"}, {"what", "voltage/{nope}"}});
}

TEST_CASE("data_field selects the data after device and time were read from the whole payload") {
  Route r = MakeRoute("v3/+/devices/{device}/up");
  r.device_field = "end_device_ids.device_id";
  r.time.field = "received_at";
  r.data_field = "uplink_message.decoded_payload";
  Normalizer n({r});
  Run run = Normalize(n, "v3/a/devices/topic-dev/up",
                      R"({"end_device_ids":{"device_id":"dev"},"received_at":"2022-08-25T21:12:53Z",
                          "uplink_message":{"decoded_payload":{"t":1}}})");
  REQUIRE(run.outcome == Outcome::kRecord);
  CHECK(run.out.device == "dev");
  CHECK(run.out.ts_from_payload);
  CHECK(run.out.data == json{{"t", 1}});
  run = Normalize(n, "v3/a/devices/d/up", R"({"uplink_message":{"decoded_payload":5}})");
  CHECK(run.out.data == json{{"value", 5}});
  run = Normalize(n, "v3/a/devices/d/up", R"({"uplink_message":{"frm_payload":"gkHe"}})");
  CHECK(run.outcome == Outcome::kDeadLetter);
  CHECK(run.reason == "validation failed: data_field \"uplink_message.decoded_payload\": missing");
}

TEST_CASE("an influx route reads line protocol and refuses anything else") {
  Route r = MakeRoute("telegraf/{device}/+");
  r.payload = PayloadMode::kInflux;
  r.time.field = "timestamp";
  Normalizer n({r});
  Run run = Normalize(n, "telegraf/web01/weather",
                      "weather,location=us temperature=82i 1465839830100400200");
  REQUIRE(run.outcome == Outcome::kRecord);
  CHECK(run.out.data["fields"]["temperature"] == 82);
  CHECK(run.out.ts_ms == 1'465'839'830'100);
  run = Normalize(n, "telegraf/web01/weather", R"({"fields":{}})");
  CHECK(run.outcome == Outcome::kDeadLetter);
  CHECK(run.reason.starts_with("invalid line protocol at byte "));
}

TEST_CASE("a route's JSON payload mode dead-letters text; auto and text take it") {
  Route json_route = MakeRoute("j");
  json_route.payload = PayloadMode::kJson;
  Normalizer n({json_route});
  CHECK(Normalize(n, "j", "ON").reason.starts_with("invalid JSON at byte 1: "));
  CHECK(Normalize(n, "j", "21.5").out.data == json{{"value", 21.5}});
}

}  // namespace
}  // namespace ferry::agent

// Normalizer: route selection by topic template, payload decoding, device id, labels, and the
// real device messages of shared/data/devices.
#include "agent/normalize/normalizer.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/normalize/topic_template.h"
#include "agent/record/record.h"

#ifndef FERRY_DEVICES_DIR
#define FERRY_DEVICES_DIR "/work/shared/data/devices"
#endif

namespace ferry::agent {
namespace {

using nlohmann::json;

constexpr int64_t kReceivedMs = 1'795'256'100'456;  // 2026-11-21T10:15:00.456Z

Route MakeRoute(std::string topic) {
  Route r;
  r.topic = std::move(topic);
  return r;
}

struct Result {
  Outcome outcome;
  Normalized out;
  std::string reason;
  DeadLetterCode code = DeadLetterCode::kInvalidMessage;  // a dead letter's
};

Result Run(const Normalizer& n, std::string_view topic, std::string_view payload) {
  Result r;
  DeadLetterReason why;
  r.outcome = n.Normalize({topic, payload, kReceivedMs}, &r.out, &why);
  r.reason = why.text;
  r.code = why.code;
  return r;
}

// Which route (by its "route" label) a topic selects; "default" for none, "ignored".
std::string RouteOf(const Normalizer& n, std::string_view topic) {
  Result r = Run(n, topic, "1");
  if (r.outcome == Outcome::kIgnored) return "ignored";
  auto it = r.out.labels.find("route");
  return it == r.out.labels.end() ? "default" : it->second;
}

Route Labelled(std::string topic, std::string name) {
  Route r = MakeRoute(std::move(topic));
  r.labels["route"] = std::move(name);
  return r;
}

bool Matches(std::string_view tmpl, std::string_view topic, std::vector<std::string_view>* caps) {
  auto t = TopicTemplate::Parse(tmpl);
  REQUIRE(t.ok());
  return t->Match(topic, caps);
}

TEST_CASE("a {name} level matches a level and captures it") {
  std::vector<std::string_view> caps;
  CHECK(Matches("zigbee2mqtt/{device}", "zigbee2mqtt/kitchen_sensor", &caps));
  CHECK(caps == std::vector<std::string_view>{"kitchen_sensor"});
  CHECK(Matches("v3/{app}/devices/{device}/up", "v3/my-app@ttn/devices/eui-70b3/up", &caps));
  CHECK(caps == std::vector<std::string_view>{"my-app@ttn", "eui-70b3"});
  CHECK(Matches("zigbee2mqtt/{device}", "zigbee2mqtt/Küche kaffee", &caps));
  CHECK(caps == std::vector<std::string_view>{"Küche kaffee"});
  CHECK_FALSE(Matches("zigbee2mqtt/{device}", "zigbee2mqtt", &caps));
  auto t = TopicTemplate::Parse("v3/{app}/devices/{device}/up");
  CHECK(t->CaptureIndex("device") == 1);
  CHECK(t->CaptureIndex("tenant") == -1);
}

TEST_CASE("'+' matches exactly one level, also an empty one") {
  CHECK(Matches("tele/+/SENSOR", "tele/kitchen/SENSOR", nullptr));
  CHECK(Matches("shellies/+/relay/0", "shellies//relay/0", nullptr));
  CHECK_FALSE(Matches("tele/+/SENSOR", "tele/a/b/SENSOR", nullptr));
  CHECK_FALSE(Matches("tele/+", "tele", nullptr));
}

TEST_CASE("'#' matches the rest of the topic and its parent") {
  CHECK(Matches("shellies/#", "shellies/shellies/shellyem3/emeter/0/power", nullptr));
  CHECK(Matches("shellies/#", "shellies", nullptr));
  CHECK(Matches("#", "anything/at/all", nullptr));
  CHECK_FALSE(Matches("shellies/#", "shelly/x", nullptr));
  std::string many = "a";
  for (int i = 0; i < 999; ++i) many += "/a";
  CHECK(Matches("a/#", many, nullptr));
  CHECK_FALSE(Matches("a/+", many, nullptr));
}

TEST_CASE("literal levels must be equal byte for byte") {
  CHECK(Matches("zigbee2mqtt/bridge/state", "zigbee2mqtt/bridge/state", nullptr));
  CHECK_FALSE(Matches("zigbee2mqtt/bridge/state", "zigbee2mqtt/bridge/State", nullptr));
  CHECK_FALSE(Matches("zigbee2mqtt/Garage Door", "zigbee2mqtt/Garage Door ", nullptr));
  CHECK_FALSE(Matches("a/b", "a/b/c", nullptr));
  CHECK_FALSE(Matches("a/b/c", "a/b", nullptr));
}

TEST_CASE("wildcards in the first level do not match $ topics") {
  CHECK_FALSE(Matches("#", "$SYS/broker/uptime", nullptr));
  CHECK_FALSE(Matches("+/broker/uptime", "$SYS/broker/uptime", nullptr));
  CHECK(Matches("$SYS/#", "$SYS/broker/uptime", nullptr));
}

TEST_CASE("malformed templates are refused with the level named") {
  for (const char* bad : {"", "a/#/b", "a/b#", "a/+b", "a/{}", "a/{dev ice}", "a/{x}{y}",
                          "a/{device}/{device}", "a/dev}"}) {
    CAPTURE(bad);
    auto t = TopicTemplate::Parse(bad);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == platform::Code::kInvalidArgument);
  }
  CHECK(TopicTemplate::Parse("a/#/b").status().message().find("'#'") != std::string::npos);
}

TEST_CASE("the first matching route wins; no match takes the default route") {
  Normalizer n({Labelled("zigbee2mqtt/bridge/#", "bridge"), Labelled("zigbee2mqtt/+", "device"),
                Labelled("#", "catch-all")});
  CHECK(RouteOf(n, "zigbee2mqtt/bridge/state") == "bridge");
  CHECK(RouteOf(n, "zigbee2mqtt/plug") == "device");
  CHECK(RouteOf(n, "tele/tasmota/SENSOR") == "catch-all");
  Normalizer narrow({Labelled("zigbee2mqtt/+", "device")});
  CHECK(RouteOf(narrow, "tele/tasmota/SENSOR") == "default");
}

TEST_CASE("an ignore route drops its messages, even empty ones") {
  Route set = MakeRoute("zigbee2mqtt/+/set");
  set.ignore = true;
  Normalizer n({set, Labelled("zigbee2mqtt/#", "z2m")});
  CHECK(RouteOf(n, "zigbee2mqtt/bulb/set") == "ignored");
  CHECK(Run(n, "zigbee2mqtt/bulb/set", "").outcome == Outcome::kIgnored);
  CHECK(RouteOf(n, "zigbee2mqtt/bulb") == "z2m");
}

TEST_CASE("an invalid template never matches") {
  Normalizer n({Labelled("a/#/b", "bad")});
  CHECK(RouteOf(n, "a/x/b") == "default");
}

// data of a payload under a route with the given payload mode.
json DataOf(std::string_view payload, std::string mode = "auto") {
  Route r = MakeRoute("#");
  r.payload = *ParsePayloadMode(mode);
  Result res = Run(Normalizer({r}), "t", payload);
  REQUIRE(res.outcome == Outcome::kRecord);
  return res.out.data;
}

TEST_CASE("plain text values become numbers, bools, strings or null") {
  for (const char* mode : {"auto", "text"}) {
    CAPTURE(mode);
    CHECK(DataOf("21.5", mode).dump() == R"({"value":21.5})");
    CHECK(DataOf("0.00", mode).dump() == R"({"value":0.0})");
    CHECK(DataOf("-3", mode).dump() == R"({"value":-3})");
    CHECK(DataOf("1465839830100400200", mode).dump() == R"({"value":1465839830100400200})");
    CHECK(DataOf("ON", mode).dump() == R"({"value":"ON"})");
    CHECK(DataOf("online", mode).dump() == R"({"value":"online"})");
    CHECK(DataOf("true", mode).dump() == R"({"value":true})");
    CHECK(DataOf("false", mode).dump() == R"({"value":false})");
    CHECK(DataOf("21,5", mode).dump() == R"({"value":"21,5"})");
    CHECK(DataOf("inf", mode).dump() == R"({"value":"inf"})");
    CHECK(DataOf("0x1F", mode).dump() == R"({"value":"0x1F"})");
    CHECK(DataOf("1e400", mode).dump() == R"({"value":"1e400"})");
    CHECK(DataOf("ON\n", mode).dump() == R"({"value":"ON"})");
  }
  CHECK(DataOf("\"quoted\"", "text").dump() == R"({"value":"\"quoted\""})");
}

TEST_CASE("nan, None and null become null, never 0") {
  for (const char* mode : {"auto", "text"}) {
    for (const char* word : {"nan", "NaN", "NAN", "-nan", "-NaN", "None", "null"}) {
      CAPTURE(mode);
      CAPTURE(word);
      json data = DataOf(word, mode);
      REQUIRE(data.contains("value"));
      CHECK(data["value"].is_null());
    }
  }
}

TEST_CASE("a JSON scalar or array goes into the value field; an object is the data") {
  CHECK(DataOf("\"hello\"", "json").dump() == R"({"value":"hello"})");
  CHECK(DataOf("[1,2]").dump() == R"({"value":[1,2]})");
  CHECK(DataOf(R"({"temperature":21.5,"humidity":48})").dump() ==
        R"({"humidity":48,"temperature":21.5})");
  Route r = MakeRoute("#");
  r.value_field = "state";
  CHECK(Run(Normalizer({r}), "t", "ON").out.data.dump() == R"({"state":"ON"})");
}

TEST_CASE("JSON numbers keep their written type and precision") {
  json d = DataOf(R"({"i":5,"f":5.0,"ns":1465839830100400200,"neg":-9007199254740993})");
  CHECK(d["i"].is_number_integer());
  CHECK(d["f"].is_number_float());
  CHECK(d["ns"].get<uint64_t>() == 1465839830100400200ull);
  CHECK(d["neg"].get<int64_t>() == -9007199254740993ll);
}

// The dead-letter reason for a payload, "" if it became a record.
std::string ReasonFor(std::string_view payload, std::string mode = "auto") {
  Route r = MakeRoute("#");
  r.payload = *ParsePayloadMode(mode);
  Result res = Run(Normalizer({r}), "t", payload);
  if (res.outcome != Outcome::kDeadLetter) return "";
  return res.reason;
}

TEST_CASE("empty, blank and non-UTF-8 payloads are dead-lettered with the reason") {
  CHECK(ReasonFor("") == "empty payload");
  CHECK(ReasonFor(" \n") == "payload is only whitespace");
  CHECK(ReasonFor("{\"value\":21.5,\"unit\":\"\xb0"
                  "C\"}") == "payload is not valid UTF-8 (byte 22)");
  CHECK(ReasonFor("\xff\xfe{") == "payload is not valid UTF-8 (byte 0)");
  CHECK(ReasonFor("{\"name\":\"\xed\xa0\x80\"}", "text") == "payload is not valid UTF-8 (byte 9)");
  CHECK(ReasonFor("ab\xc0\xaf") == "payload is not valid UTF-8 (byte 2)");  // overlong '/'
}

TEST_CASE("invalid JSON is dead-lettered with the parser's reason") {
  CHECK(ReasonFor(R"({"a":1,})") ==
        "invalid JSON at byte 8: syntax error while parsing object key - unexpected '}'; "
        "expected string literal");
  CHECK(ReasonFor("{'temperature': 21.5}").starts_with("invalid JSON at byte 2: "));
  CHECK(ReasonFor(R"({"value":-1e400})") ==
        "invalid JSON at byte 15: number overflow parsing '-1e400'");
  CHECK(ReasonFor(R"({"name":"\ud800","v":1})").starts_with("invalid JSON at byte 16: "));
  CHECK(ReasonFor("[1,2").starts_with("invalid JSON"));
  CHECK(ReasonFor("ON", "json").starts_with("invalid JSON at byte 1: "));
  CHECK(ReasonFor("{\"k\":\"" + std::string(5000, 'x')).size() <= 203);
}

TEST_CASE("JSON nested deeper than the limit is dead-lettered, not recursed into") {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(10000, '}');
  CHECK(ReasonFor(deep) == "JSON nested deeper than 128 levels");
  CHECK(ReasonFor(std::string(100000, '[')) == "JSON nested deeper than 128 levels");
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK(ReasonFor(ok) == "");
  CHECK(
      ReasonFor(
          R"({"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})") ==
      "");
}

TEST_CASE("too deep wins over a syntax error before or after the depth is reached") {
  const std::string too_deep = "JSON nested deeper than 128 levels";
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  CHECK(ReasonFor(deep) == too_deep);
  CHECK(ReasonFor("{\"a\":x," + std::string(200, '[')) == too_deep);  // error first
  CHECK(ReasonFor(std::string(200, '[') + "x") == too_deep);          // error after
  CHECK(ReasonFor("[1,]" + std::string(200, '[')) == too_deep);
  // Closed before the next opens: never deeper than the limit, so the syntax error is reported.
  std::string wide;
  for (int i = 0; i < 3; ++i) {
    wide += std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  }
  CHECK(ReasonFor(wide) ==
        "invalid JSON at byte 257: syntax error while parsing value - unexpected '['; expected end "
        "of input");
  CHECK(ReasonFor("[" + std::string(kMaxJsonDepth, '{')) == too_deep);
  CHECK(ReasonFor("[" + std::string(kMaxJsonDepth - 1, '{')) ==
        "invalid JSON at byte 3: syntax error while parsing object key - unexpected '{'; expected "
        "string literal");
  // Brackets in strings, escaped quotes included, do not count.
  std::string in_string = "[\"\\\"" + std::string(300, '[') + "\"]";
  CHECK(ReasonFor(in_string) == "");
  CHECK(ReasonFor(in_string + "x").starts_with("invalid JSON at byte"));
  // A top-level scalar with brackets after it is invalid, however many.
  CHECK(ReasonFor("1 " + std::string(300, '['), "json").starts_with("invalid JSON at byte"));
}

TEST_CASE("a 64 KiB key is kept") {
  std::string key(65536, 'k');
  CHECK(DataOf("{\"" + key + "\":1}").contains(key));
}

TEST_CASE("the device comes from the topic capture") {
  Normalizer n({MakeRoute("zigbee2mqtt/{device}"), MakeRoute("shellies/{device}/relay/+")});
  CHECK(Run(n, "zigbee2mqtt/kitchen_sensor", "{}").out.device == "kitchen_sensor");
  CHECK(Run(n, "shellies/shelly1/relay/0", "off").out.device == "shelly1");
  CHECK(Run(n, "shellies//relay/0", "on").out.device == "");
  CHECK(Run(n, "other/topic", "1").out.device == "");
}

TEST_CASE("the device comes from a payload field when the template has no capture") {
  Route gen2 = MakeRoute("+/events/rpc");
  gen2.device_field = "src";
  Route ttn = MakeRoute("v3/+/devices/+/up");
  ttn.device_field = "end_device_ids.device_id";
  Route numeric = MakeRoute("num/#");
  numeric.device_field = "id";
  Normalizer n({gen2, ttn, numeric});
  CHECK(Run(n, "plus1pm/events/rpc",
            R"({"src":"shellyplus1pm-4417939341dc","method":"NotifyStatus","params":{}})")
            .out.device == "shellyplus1pm-4417939341dc");
  CHECK(
      Run(n, "v3/app@ttn/devices/x/up", R"({"end_device_ids":{"device_id":"eui-1"}})").out.device ==
      "eui-1");
  CHECK(Run(n, "num/a", R"({"id":42})").out.device == "42");
  CHECK(Run(n, "num/a", R"({"id":true})").out.device == "");
  CHECK(Run(n, "num/a", R"({"other":1})").out.device == "");
}

TEST_CASE("the device field wins over the capture, which stands in when it is absent") {
  Route r = MakeRoute("shellies/{device}/events/rpc");
  r.device_field = "src";
  Normalizer n({r});
  CHECK(Run(n, "shellies/plus1pm/events/rpc", R"({"src":"shellyplus1pm-44"})").out.device ==
        "shellyplus1pm-44");
  CHECK(Run(n, "shellies/plus1pm/events/rpc", R"({"method":"x"})").out.device == "plus1pm");
  CHECK(Run(n, "shellies/plus1pm/events/rpc", R"({"src":{"a":1}})").out.device == "plus1pm");
}

TEST_CASE("of several device fields the first holding a string or number wins") {
  Route r = MakeRoute("#");
  r.device_field = "id, end_device_ids.device_id";
  Normalizer n({r});
  CHECK(Run(n, "a", R"({"id":"x","end_device_ids":{"device_id":"y"}})").out.device == "x");
  CHECK(Run(n, "a", R"({"id":null,"end_device_ids":{"device_id":"y"}})").out.device == "y");
  CHECK(Run(n, "a", R"({"other":1})").out.device == "");
}

TEST_CASE("the route's labels are the record's labels") {
  Route r = MakeRoute("#");
  r.labels = {{"site", "plant-7"}, {"kind", "z2m"}};
  Normalizer n({r});
  CHECK(Run(n, "a", "1").out.labels == r.labels);
  CHECK(Run(Normalizer(std::vector<Route>{}), "a", "1").out.labels.empty());
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

TEST_CASE("every real device message becomes a record or a dead letter with a reason") {
  Normalizer n(std::vector<Route>{});
  int lines = 0;
  for (const auto& entry : std::filesystem::directory_iterator(FERRY_DEVICES_DIR)) {
    if (entry.path().extension() != ".ndjson") continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      json msg = json::parse(line, nullptr, false);
      REQUIRE(msg.is_object());
      if (msg.contains("generator")) continue;
      std::string topic = msg.value("topic", "");
      std::string payload =
          msg.contains("payload_hex") ? Unhex(msg["payload_hex"]) : msg.value("payload", "");
      CAPTURE(entry.path().filename().string());
      CAPTURE(line);
      Result r = Run(n, topic, payload);
      ++lines;
      if (r.outcome == Outcome::kDeadLetter) {
        CHECK_FALSE(r.reason.empty());
        continue;
      }
      REQUIRE(r.outcome == Outcome::kRecord);
      CHECK(r.out.data.is_object());
      std::string out;
      AppendRecordLine({.gateway = "gw",
                        .epoch = "1",
                        .seq = 1,
                        .topic = topic,
                        .device = r.out.device,
                        .ts_ms = r.out.ts_ms,
                        .received_ms = kReceivedMs,
                        .route_labels = &r.out.labels,
                        .data = &r.out.data},
                       out);
      CHECK(json::parse(out, nullptr, false).is_object());
    }
  }
  CHECK(lines > 100);
}

}  // namespace
}  // namespace ferry::agent

// Every message of every device family in shared/data/devices, normalized by that family's
// example config (config/examples/<family>.json), against the checked-in expectations in
// tests/fixtures/normalize/<family>.expected.ndjson (written and reviewed by hand; see the
// README there).
#include <doctest/doctest.h>

#include <string>

#include "agent/normalize/normalizer.h"
#include "normalize_test_support.h"
#include "platform/log.h"

namespace ferry::agent {
namespace {

using nlohmann::json;
using testing::kFixtureReceivedMs;

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kRecord:
      return "record";
    case Outcome::kIgnored:
      return "ignored";
    case Outcome::kDeadLetter:
      return "dead_letter";
  }
  return "?";
}

void CheckRecord(const json& want, const Normalized& got) {
  CHECK(got.device == want.value("device", ""));
  CHECK(platform::FormatRfc3339Millis(got.ts_ms) == want["ts"].get<std::string>());
  CHECK((got.ts_from_payload ? "payload" : "received") == want["ts_source"].get<std::string>());
  CHECK(got.ts_from_payload == (got.ts_status == TimeStatus::kPayload));
  json labels = json::object();
  for (const auto& [k, v] : got.labels) labels[k] = v;
  CHECK(labels == want.value("labels", json::object()));
  INFO("data: " << got.data.dump());
  INFO("want: " << want["data"].dump());
  CHECK(testing::SameJson(got.data, want["data"]));
}

void CheckFamily(const std::string& family) {
  Config config = testing::ExampleConfig(family);
  Normalizer normalizer(config.routes);
  std::vector<json> inputs = testing::DeviceLines(family);
  std::vector<json> expected = testing::ReadNdjson(
      std::string(FERRY_SOURCE_DIR) + "/tests/fixtures/normalize/" + family + ".expected.ndjson");
  REQUIRE(inputs.size() == expected.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(family);
    CAPTURE(i + 1);
    const json& want = expected[i];
    std::string topic = inputs[i]["topic"].get<std::string>();
    std::string payload = testing::PayloadOf(inputs[i]);
    CAPTURE(topic);
    REQUIRE(want["topic"] == topic);
    Normalized out;
    DeadLetterReason reason;
    Outcome outcome = normalizer.Normalize({topic, payload, kFixtureReceivedMs}, &out, &reason);
    CAPTURE(reason.text);
    REQUIRE(std::string(OutcomeName(outcome)) == want["outcome"].get<std::string>());
    if (outcome == Outcome::kRecord) CheckRecord(want, out);
    if (outcome == Outcome::kDeadLetter) CHECK(reason.text == want["reason"].get<std::string>());
  }
}

TEST_CASE("zigbee2mqtt messages normalize as the fixture says") { CheckFamily("zigbee2mqtt"); }
TEST_CASE("tasmota messages normalize as the fixture says") { CheckFamily("tasmota"); }
TEST_CASE("shelly gen1 messages normalize as the fixture says") { CheckFamily("shelly_gen1"); }
TEST_CASE("shelly gen2 messages normalize as the fixture says") { CheckFamily("shelly_gen2"); }
TEST_CASE("ttn v3 messages normalize as the fixture says") { CheckFamily("ttn_v3"); }
TEST_CASE("owntracks messages normalize as the fixture says") { CheckFamily("owntracks"); }
TEST_CASE("esphome messages normalize as the fixture says") { CheckFamily("esphome"); }
TEST_CASE("telegraf messages normalize as the fixture says") { CheckFamily("telegraf"); }

TEST_CASE("no device message of a family is dead-lettered by its example config") {
  for (const std::string& family : testing::Families()) {
    CAPTURE(family);
    for (const json& want :
         testing::ReadNdjson(std::string(FERRY_SOURCE_DIR) + "/tests/fixtures/normalize/" + family +
                             ".expected.ndjson")) {
      CHECK(want["outcome"] != "dead_letter");
    }
  }
}

// The zigbee2mqtt example's promises beyond the corpus: a friendly name containing '/', and
// the attribute and the state routes told apart by the payload's shape.
TEST_CASE("the zigbee2mqtt example captures friendly names with slashes") {
  Normalizer n(testing::ExampleConfig("zigbee2mqtt").routes);
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(n.Normalize({"zigbee2mqtt/kitchen/floor_light", R"({"state":"ON","brightness":254})",
                       kFixtureReceivedMs},
                      &out, &reason) == Outcome::kRecord);
  CHECK(out.device == "kitchen/floor_light");
  CHECK(out.data == json{{"state", "ON"}, {"brightness", 254}});
  REQUIRE(n.Normalize({"zigbee2mqtt/kitchen/floor_light/state", "ON", kFixtureReceivedMs}, &out,
                      &reason) == Outcome::kRecord);
  CHECK(out.device == "kitchen/floor_light");
  CHECK(out.data == json{{"state", "ON"}});
  CHECK(
      n.Normalize({"zigbee2mqtt/kitchen/floor_light/set", R"({"state":"OFF"})", kFixtureReceivedMs},
                  &out, &reason) == Outcome::kIgnored);
}

}  // namespace
}  // namespace ferry::agent

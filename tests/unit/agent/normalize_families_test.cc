// The device families of tests/fixtures/devices (added for the rule features of issue 11:
// templates, explode, pairs, JSON in strings), each through its example config, against the
// hand-reviewed expectations in tests/fixtures/normalize/<family>.expected.ndjson. A line
// whose outcome is "records" lists every record an exploding message makes, in order.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/normalize/normalizer.h"
#include "normalize_test_support.h"
#include "platform/log.h"

namespace ferry::agent {
namespace {

using nlohmann::json;
using testing::kFixtureReceivedMs;

void CheckRecord(const json& want, const Normalized& got) {
  CHECK(got.device == want.value("device", ""));
  CHECK(platform::FormatRfc3339Millis(got.ts_ms) == want["ts"].get<std::string>());
  CHECK((got.ts_from_payload ? "payload" : "received") == want["ts_source"].get<std::string>());
  json labels = json::object();
  for (const auto& [k, v] : got.labels) labels[k] = v;
  CHECK(labels == want.value("labels", json::object()));
  INFO("data: " << got.data.dump());
  INFO("want: " << want["data"].dump());
  CHECK(testing::SameJson(got.data, want["data"]));
}

void CheckFamily(const std::string& family) {
  Normalizer normalizer(testing::ExampleConfig(family).routes);
  std::string dir = std::string(FERRY_SOURCE_DIR) + "/tests/fixtures/";
  std::vector<json> inputs = testing::ReadNdjson(dir + "devices/" + family + ".ndjson");
  std::vector<json> expected =
      testing::ReadNdjson(dir + "normalize/" + family + ".expected.ndjson");
  REQUIRE(inputs.size() == expected.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(family);
    CAPTURE(i + 1);
    const json& want = expected[i];
    std::string topic = inputs[i]["topic"].get<std::string>();
    std::string payload = testing::PayloadOf(inputs[i]);
    REQUIRE(want["topic"] == topic);
    REQUIRE(inputs[i].contains("ref"));
    Normalized out;
    std::vector<Normalized> more;
    DeadLetterReason reason;
    Outcome outcome =
        normalizer.Normalize({topic, payload, kFixtureReceivedMs}, &out, &reason, &more);
    CAPTURE(reason.text);
    std::string kind = want["outcome"].get<std::string>();
    if (kind == "records") {
      REQUIRE(outcome == Outcome::kRecord);
      const json& records = want["records"];
      REQUIRE(records.size() == more.size() + 1);
      CheckRecord(records[0], out);
      for (size_t r = 0; r < more.size(); ++r) CheckRecord(records[r + 1], more[r]);
    } else if (kind == "record") {
      REQUIRE(outcome == Outcome::kRecord);
      CHECK(more.empty());
      CheckRecord(want, out);
    } else if (kind == "ignored") {
      CHECK(outcome == Outcome::kIgnored);
    } else {
      REQUIRE(outcome == Outcome::kDeadLetter);
      CHECK(reason.text == want["reason"].get<std::string>());
    }
  }
}

TEST_CASE("rtl_433 events normalize as the fixture says (device from model, channel, id)") {
  CheckFamily("rtl_433");
}
TEST_CASE("neuron messages normalize as the fixture says (tags as pairs, heartbeat exploded)") {
  CheckFamily("neuron");
}
TEST_CASE("edgex events normalize as the fixture says (readings typed by valueType)") {
  CheckFamily("edgex");
}
TEST_CASE("chirpstack v3 uplinks normalize as the fixture says (objectJSON decoded)") {
  CheckFamily("chirpstack_v3");
}

TEST_CASE("sparkplug messages normalize as the fixture says (aliases from the NBIRTH)") {
  CheckFamily("sparkplug");
}

TEST_CASE("victron messages normalize as the fixture says (battery list exploded)") {
  CheckFamily("victron");
}
TEST_CASE("theengs_ble messages normalize as the fixture says (device from the payload id)") {
  CheckFamily("theengs_ble");
}
TEST_CASE("frigate messages normalize as the fixture says (event after-state, counts)") {
  CheckFamily("frigate");
}

}  // namespace
}  // namespace ferry::agent

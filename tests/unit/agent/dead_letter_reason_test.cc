// A dead letter's metric label comes from its code (agent/record/dead_letter_reason.h), set where
// the reason is made, never from its text.
#include "agent/record/dead_letter_reason.h"

#include <doctest/doctest.h>

#include <deque>
#include <fstream>
#include <map>
#include <set>

#include "agent/intake/intake.h"
#include "agent/transform/transform_set.h"
#include "platform/clock.h"
#include "support/temp_dir.h"
#include "support/test_queue.h"

namespace ferry::agent {
namespace {

TEST_CASE("every dead-letter code has a label of its own; today's labels keep their names") {
  std::set<std::string_view> names;
  for (const EnumName<DeadLetterCode>& n : NamesOf(DeadLetterCode{})) names.insert(n.name);
  CHECK(names.size() == std::size(kDeadLetterCodeNames));
  CHECK(names.count("?") == 0);
  // Public label values (README, config/README.md, dashboards, the integration tests).
  for (const char* label :
       {"invalid_message", "empty_payload", "invalid_utf8", "invalid_json", "too_large", "rejected",
        "invalid_line_protocol", "validation_failed", "too_deep", "sparkplug_unknown_alias",
        "invalid_sparkplug", "transform", "unreadable_block"}) {
    CHECK_MESSAGE(names.count(label) == 1, label);
  }
  CHECK(names.size() == 13);
  CHECK(DeadLetterLabel(DeadLetterCode::kInvalidJson) == "invalid_json");
  CHECK(DeadLetterLabel(DeadLetterCode::kUnreadableBlock) == "unreadable_block");
}

// A transform whose error text reads like the rules' own reasons.
constexpr const char* kMimic = R"(
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    print(json.dumps({"id": req["id"], "error": "empty payload"}), flush=True)
)";

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A message's topic and payload are views (AckGate owns the bytes): kept here for the test.
ReceivedMessage Message(std::string topic, std::string payload) {
  static std::deque<std::string> bytes;
  ReceivedMessage m;
  m.topic = bytes.emplace_back(std::move(topic));
  m.payload = bytes.emplace_back(std::move(payload));
  m.received_ms = 1'795'256'100'000;
  m.received_mono_ms = 1;
  return m;
}

// Finding 12 of issue 10: the label was found by matching the start of the reason's free text
// (DeadLetterReasonLabel), so a text worded like another reason's was counted under that one's
// label, and a reason no prefix knew under "invalid_message". Each producer now sets a code.
TEST_CASE(
    "regression issue 10 #12: a dead letter's metric label comes from its code, not its text") {
  testing::TempDir dir;
  std::string script = dir.File("mimic.py");
  std::ofstream(script) << kMimic;
  Config config;
  config.gateway.id = "gw";
  TransformConfig mimic;
  mimic.name = "mimic";
  mimic.command = {"python3", script};
  mimic.sandbox = platform::Isolation::kNone;
  mimic.timeout_ms = 5000;
  mimic.memory = 256ull << 20;
  config.transforms["mimic"] = mimic;
  Route via;
  via.topic = "via/#";
  via.transform = "mimic";
  config.routes.push_back(via);
  Normalizer normalizer(config.routes);
  platform::Clock& clock = platform::SystemClock();
  TransformSet transforms(config, dir.path(), clock);
  auto queue = testing::OpenTestQueue(dir.File("q.db"), clock);
  Metrics metrics;
  Intake intake(config, normalizer, *queue, metrics, &transforms);

  std::vector<ReceivedMessage> group = {
      Message("via/a", R"({"t":1})"),  // the transform's reason: "transform mimic: empty payload"
      Message("e", ""),
      Message("j", "{\"t\":"),
      Message("u", "\xff"),
      Message("spBv1.0/factory/NDATA/edge1",
              Unhex("08d2e283b9fa32120d1064200a6900000000008036401801")),  // alias 100, no BIRTH
  };
  ReceivedMessage big = Message("big", "");
  big.oversize = true;
  big.full_size = 1 << 20;
  group.push_back(big);
  REQUIRE(intake.Store(group).ok());

  std::map<std::string, uint64_t> want = {
      {"transform", 1},    {"empty_payload", 1},           {"invalid_json", 1},
      {"invalid_utf8", 1}, {"sparkplug_unknown_alias", 1}, {"too_large", 1}};
  CHECK(metrics.records_dead_lettered.Snapshot() == want);
  // The store keeps the text, which is what people read.
  auto letters = queue->ListDeadLetters(0, 10);
  REQUIRE(letters.ok());
  REQUIRE(letters->size() == 6);
  CHECK((*letters)[0].reason == "empty payload");  // the rules' dead letters come first
  CHECK(letters->back().reason == "transform mimic: empty payload");
}

TEST_CASE("the code, not the wording, names the label") {
  DeadLetterReason reason{DeadLetterCode::kTransform, "invalid JSON at byte 0: from a transform"};
  CHECK(DeadLetterLabel(reason.code) == "transform");
  DeadLetterReason none;
  CHECK(DeadLetterLabel(none.code) == "invalid_message");
}

}  // namespace
}  // namespace ferry::agent

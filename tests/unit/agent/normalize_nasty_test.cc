// Hostile inputs (shared/data/devices/nasty.ndjson, generators expanded): each is normalized or
// dead-lettered with a reason by every example config and by the default rule, never crashes
// or hangs (the suite also runs under ASan/UBSan), and the message after it is processed.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "agent/normalize/normalizer.h"
#include "agent/record/record.h"
#include "normalize_test_support.h"
#include "platform/log.h"

namespace ferry::agent {
namespace {

using nlohmann::json;
using testing::kFixtureReceivedMs;

// The generator forms nasty.ndjson uses, as Python source text -> what it builds.
const std::map<std::string, std::function<std::string()>>& Generators() {
  static const auto* kForms = new std::map<std::string, std::function<std::string()>>{
      {R"('{"a":' * 10000 + '1' + '}' * 10000)",
       [] {
         std::string s;
         for (int i = 0; i < 10000; ++i) s += "{\"a\":";
         return s + "1" + std::string(10000, '}');
       }},
      {R"('{"' + 'k' * 65536 + '":1}')", [] { return "{\"" + std::string(65536, 'k') + "\":1}"; }},
      {R"('/'.join(['a'] * 1000))",
       [] {
         std::string s = "a";
         for (int i = 1; i < 1000; ++i) s += "/a";
         return s;
       }},
  };
  return *kForms;
}

struct NastyMessage {
  std::string name;
  std::string topic;
  std::string payload;
};

std::string Expand(const json& expr) {
  auto it = Generators().find(expr.get<std::string>());
  REQUIRE_MESSAGE(it != Generators().end(),
                  "nasty.ndjson has a new generator form; add it to Generators(): " << expr);
  return it->second();
}

std::vector<NastyMessage> NastyMessages() {
  std::vector<NastyMessage> out;
  for (const json& line : testing::DeviceLines("nasty")) {
    NastyMessage m{line["case"].get<std::string>(), {}, testing::PayloadOf(line)};
    if (line["topic"].is_string()) m.topic = line["topic"].get<std::string>();
    if (line.contains("generator")) {
      const json& g = line["generator"];
      if (g.contains("expr")) m.payload = Expand(g["expr"]);
      if (g.contains("topic_expr")) m.topic = Expand(g["topic_expr"]);
      if (g.contains("payload")) m.payload = g["payload"].get<std::string>();
    }
    out.push_back(std::move(m));
  }
  return out;
}

bool HasKnownReasonPrefix(const std::string& reason) {
  for (const char* prefix :
       {"empty payload", "payload is only whitespace", "payload is not valid UTF-8", "invalid JSON",
        "JSON nested deeper than", "invalid line protocol", "payload too large",
        "validation failed"}) {
    if (reason.starts_with(prefix)) return true;
  }
  return false;
}

// One normalizer per example config, and the default rule under "".
std::map<std::string, std::unique_ptr<Normalizer>> AllNormalizers() {
  std::map<std::string, std::unique_ptr<Normalizer>> out;
  for (const std::string& family : testing::Families()) {
    out[family] = std::make_unique<Normalizer>(testing::ExampleConfig(family).routes);
  }
  out[""] = std::make_unique<Normalizer>(std::vector<Route>{});
  return out;
}

void CheckSurvives(const Normalizer& n, const NastyMessage& m) {
  Normalized out;
  DeadLetterReason reason;
  Outcome o = n.Normalize({m.topic, m.payload, kFixtureReceivedMs}, &out, &reason);
  if (o == Outcome::kDeadLetter) {
    CHECK(HasKnownReasonPrefix(reason.text));
    CHECK(reason.text.size() <= 300);
    return;
  }
  if (o != Outcome::kRecord) return;
  REQUIRE(out.data.is_object());
  std::string line;
  AppendRecordLine({.gateway = "gw",
                    .epoch = "1",
                    .seq = 1,
                    .topic = m.topic,
                    .device = out.device,
                    .ts_ms = out.ts_ms,
                    .ts_from_payload = out.ts_from_payload,
                    .received_ms = kFixtureReceivedMs,
                    .route_labels = &out.labels,
                    .data = &out.data},
                   line);
  CHECK(json::parse(line, nullptr, false).is_object());
}

// A well-formed message of the family comes out as its fixture says.
void CheckNextMessage(const std::string& family, const Normalizer& n) {
  std::string topic = family.empty() ? "gw/next" : testing::DeviceLines(family)[0]["topic"];
  std::string payload =
      family.empty() ? "21.5" : testing::PayloadOf(testing::DeviceLines(family)[0]);
  Normalized out;
  DeadLetterReason reason;
  Outcome o = n.Normalize({topic, payload, kFixtureReceivedMs}, &out, &reason);
  CHECK(o != Outcome::kDeadLetter);
  if (family.empty()) CHECK(out.data == json{{"value", 21.5}});
}

TEST_CASE("every nasty message is normalized or dead-lettered by every config, then the next one") {
  std::vector<NastyMessage> messages = NastyMessages();
  CHECK(messages.size() >= 43);
  auto normalizers = AllNormalizers();
  for (const NastyMessage& m : messages) {
    for (const auto& [family, n] : normalizers) {
      CAPTURE(m.name);
      CAPTURE(family);
      CheckSurvives(*n, m);
      CheckNextMessage(family, *n);
    }
  }
}

// What the relevant config makes of particular nasty messages, decided by hand.
struct Expectation {
  const char* name;
  const char* family;  // "" = the default rule
  const char* outcome;
  const char* reason_or_ts;  // dead_letter: reason prefix; record: ts and ts_source
  const char* device = nullptr;
  const char* data = nullptr;  // JSON the record's data must equal
};

const Expectation kExpected[] = {
    {"invalid-json-doc-mcp230xx", "tasmota", "dead_letter", "invalid JSON at byte 47: "},
    {"invalid-json-trailing-comma", "", "dead_letter", "invalid JSON at byte "},
    {"python-repr", "", "dead_letter", "invalid JSON at byte 2: "},
    {"infinity-token", "", "dead_letter", "invalid JSON at byte "},
    {"json-with-comments", "", "dead_letter", "invalid JSON at byte "},
    {"leading-zero-numbers", "", "dead_letter", "invalid JSON at byte "},
    {"truncated-in-escape", "zigbee2mqtt", "dead_letter", "invalid JSON at byte "},
    {"latin1-degree", "", "dead_letter", "payload is not valid UTF-8 (byte 22)"},
    {"utf16le-bom", "", "dead_letter", "payload is not valid UTF-8 (byte 0)"},
    {"cesu8-surrogate", "", "dead_letter", "payload is not valid UTF-8 (byte 9)"},
    {"escaped-lone-surrogate", "", "dead_letter", "invalid JSON at byte "},
    {"sparkplug-b-protobuf", "", "record", "2022-11-10T21:12:39.262Z payload",
     "plant1/edge1/press1", R"({"Temperature":21.5,"_seq":3})"},
    {"deep-object-10000", "", "dead_letter", "JSON nested deeper than 128 levels"},
    {"num-neg-1e400", "", "dead_letter", "invalid JSON at byte 15: number overflow"},
    {"empty-on-json-topic", "tasmota", "dead_letter", "empty payload"},
    {"whitespace-only", "", "dead_letter", "payload is only whitespace"},
    {"duplicate-key", "tasmota", "record", "2021-06-13T04:59:52.000Z payload", "tasmota",
     R"({"Time":"2021-06-13T06:59:52","temperature":"unavailable"})"},
    {"duplicate-key-nested-time", "tasmota", "record", "2026-11-21T10:15:00.000Z received",
     "tasmota", R"({"Time":"1970-01-01T00:00:11","POWER":true})"},
    {"num-2pow64", "", "record", "2026-11-21T10:15:00.000Z received", "",
     R"({"counter":1.8446744073709552e19})"},
    {"num-2pow53-plus-1", "", "record", "2026-11-21T10:15:00.000Z received", "",
     R"({"ts_ns":9007199254740993})"},
    {"num-long-fraction", "", "record", "2026-11-21T10:15:00.000Z received", "",
     R"({"value":0.1})"},
    {"comma-decimal", "", "record", "2026-11-21T10:15:00.000Z received", "", R"({"value":"21,5"})"},
    {"plain-unknown", "", "record", "2026-11-21T10:15:00.000Z received", "",
     R"({"value":"unknown"})"},
    {"ts-negative", "owntracks", "record", "2026-11-21T10:15:00.000Z received", "phone"},
    {"ts-shelly-uptime", "shelly_gen2", "record", "2026-11-21T10:15:00.000Z received",
     "shellyplus1pm-4417939341dc", R"({"ts":1.61,"mqtt":{"connected":true}})"},
    {"ts-far-future", "owntracks", "record", "2026-11-21T10:15:00.000Z received", "phone"},
    {"ts-ns-in-ms-field", "zigbee2mqtt", "record", "2023-07-22T04:26:40.000Z payload", "plug"},
    {"ts-year-10000", "zigbee2mqtt", "record", "2026-11-21T10:15:00.000Z received", "plug"},
    {"ts-dst-ambiguous", "tasmota", "record", "2021-10-31T01:30:00.000Z payload", "tasmota",
     R"({"Time":"2021-10-31T02:30:00","DS18B20_Temperature":20.1,"TempUnit":"C"})"},
    {"ts-all-zero", "tasmota", "record", "2026-11-21T10:15:00.000Z received", "tasmota",
     R"({"Time":"0000-00-00T00:00:00","ANALOG_A0":8})"},
    {"ts-garbage-suffix", "tasmota", "record", "2026-11-21T10:15:00.000Z received",
     "mezzo/invalidTime",
     R"({"Time":"2019-01-10T22:16:04qq","unkown_Temperature":3.0,"TempUnit":"C"})"},
    {"scalar-true", "", "record", "2026-11-21T10:15:00.000Z received", "", R"({"value":true})"},
    {"array-top-level", "zigbee2mqtt", "ignored", ""},
    {"array-top-level", "", "record", "2026-11-21T10:15:00.000Z received", "",
     R"({"value":[{"id":1,"friendly_name":"my_group","scenes":[],"members":[]}]})"},
    {"qos1-duplicate", "shelly_gen2", "record", "2022-08-26T12:37:12.850Z payload",
     "shellyplus1pm-4417939341dc"},
    {"topic-unicode-space", "zigbee2mqtt", "record", "2026-11-21T10:15:00.000Z received",
     "Küche kaffee", R"({"state":"OFF","power":0})"},
    {"topic-emoji-rtl", "zigbee2mqtt", "record", "2026-11-21T10:15:00.000Z received",
     "\xF0\x9F\x9A\xAA door \xE2\x80\xAEroolf", R"({"contact":true})"},
    {"topic-empty-levels", "shelly_gen1", "record", "2026-11-21T10:15:00.000Z received", "",
     R"({"relay":true})"},
    {"topic-trailing-space", "zigbee2mqtt", "record", "2026-11-21T10:15:00.000Z received",
     "Garage Door ", R"({"contact":false})"},
    {"topic-many-levels", "", "record", "2026-11-21T10:15:00.000Z received", "", R"({"value":1})"},
    {"topic-own-command", "zigbee2mqtt", "ignored", ""},
};

TEST_CASE("particular nasty messages come out as decided") {
  std::map<std::string, NastyMessage> by_name;
  for (NastyMessage& m : NastyMessages()) by_name[m.name] = std::move(m);
  auto normalizers = AllNormalizers();
  for (const Expectation& e : kExpected) {
    std::string name = e.name, family = e.family;
    CAPTURE(name);
    CAPTURE(family);
    REQUIRE(by_name.count(e.name) == 1);
    const NastyMessage& m = by_name[e.name];
    Normalized out;
    DeadLetterReason reason;
    Outcome o =
        normalizers[e.family]->Normalize({m.topic, m.payload, kFixtureReceivedMs}, &out, &reason);
    CAPTURE(reason.text);
    if (std::string(e.outcome) == "dead_letter") {
      REQUIRE(o == Outcome::kDeadLetter);
      CHECK(reason.text.starts_with(e.reason_or_ts));
    } else if (std::string(e.outcome) == "ignored") {
      CHECK(o == Outcome::kIgnored);
    } else {
      REQUIRE(o == Outcome::kRecord);
      CHECK(platform::FormatRfc3339Millis(out.ts_ms) +
                (out.ts_from_payload ? " payload" : " received") ==
            e.reason_or_ts);
      if (e.device != nullptr) CHECK(out.device == e.device);
      if (e.data != nullptr) CHECK(testing::SameJson(out.data, json::parse(e.data)));
    }
  }
}

TEST_CASE("a 64 KiB key and a 10000-character topic level come through whole") {
  auto normalizers = AllNormalizers();
  for (const NastyMessage& m : NastyMessages()) {
    if (m.name != "huge-key" && m.name != "topic-long-level") continue;
    Normalized out;
    DeadLetterReason reason;
    REQUIRE(normalizers[""]->Normalize({m.topic, m.payload, kFixtureReceivedMs}, &out, &reason) ==
            Outcome::kRecord);
    if (m.name == "huge-key") CHECK(out.data.contains(std::string(65536, 'k')));
    if (m.name == "topic-long-level") CHECK(out.data == json{{"value", 1}});
  }
}

}  // namespace
}  // namespace ferry::agent

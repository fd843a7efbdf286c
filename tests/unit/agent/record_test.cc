// The record line of the landing protocol: exact bytes for known envelopes.
#include "agent/record/record.h"

#include <doctest/doctest.h>

#include <string>

namespace ferry::agent {
namespace {

using nlohmann::json;

constexpr int64_t kTsMs = 1'795'256'100'123;        // 2026-11-21T10:15:00.123Z
constexpr int64_t kReceivedMs = 1'795'256'100'456;  // 2026-11-21T10:15:00.456Z

std::string Escaped(std::string_view s) {
  std::string out;
  AppendJsonString(s, out);
  return out;
}

TEST_CASE("a record line has the protocol's fields in the protocol's order") {
  std::map<std::string, std::string> gateway_labels = {{"site", "plant-7"}};
  json data = {{"temperature", 21.5}, {"humidity", 48}};
  RecordEnvelope rec{.gateway = "gw-0042",
                     .epoch = "7",
                     .seq = 1833,
                     .topic = "zigbee2mqtt/kitchen_sensor",
                     .device = "kitchen_sensor",
                     .ts_ms = kTsMs,
                     .ts_from_payload = true,
                     .received_ms = kReceivedMs,
                     .gateway_labels = &gateway_labels,
                     .data = &data};
  std::string out = "previous line\n";
  AppendRecordLine(rec, out);
  CHECK(out ==
        "previous line\n"
        R"({"id":"gw-0042.7.1833","seq":1833,"gateway":"gw-0042",)"
        R"("source":"mqtt","topic":"zigbee2mqtt/kitchen_sensor","device":"kitchen_sensor",)"
        R"("ts":"2026-11-21T10:15:00.123Z","ts_source":"payload",)"
        R"("received_at":"2026-11-21T10:15:00.456Z",)"
        R"("labels":{"site":"plant-7"},)"
        R"("data":{"humidity":48,"temperature":21.5}})"
        "\n");
}

TEST_CASE("a record without a device omits the field and says the time is the receive time") {
  json data = {{"value", "ON"}};
  RecordEnvelope rec{.gateway = "gw",
                     .epoch = "a1",
                     .seq = 18446744073709551615ull,
                     .topic = "stat/plug/POWER",
                     .device = {},
                     .ts_ms = kReceivedMs,
                     .received_ms = kReceivedMs,
                     .data = &data};
  std::string out;
  AppendRecordLine(rec, out);
  CHECK(out == R"({"id":"gw.a1.18446744073709551615","seq":18446744073709551615,"gateway":"gw",)"
               R"("source":"mqtt","topic":"stat/plug/POWER",)"
               R"("ts":"2026-11-21T10:15:00.456Z","ts_source":"received",)"
               R"("received_at":"2026-11-21T10:15:00.456Z","labels":{},"data":{"value":"ON"}})"
               "\n");
}

TEST_CASE("route labels are merged over gateway labels, keys sorted") {
  std::map<std::string, std::string> gateway = {{"site", "plant-7"}, {"zone", "a"}};
  std::map<std::string, std::string> route = {{"zone", "b"}, {"kind", "z2m"}, {"z", "last"}};
  RecordEnvelope rec{.gateway = "gw",
                     .epoch = "1",
                     .seq = 1,
                     .topic = "t",
                     .device = {},
                     .gateway_labels = &gateway,
                     .route_labels = &route};
  std::string out;
  AppendRecordLine(rec, out);
  CHECK(out.find(R"("labels":{"kind":"z2m","site":"plant-7","z":"last","zone":"b"},)") !=
        std::string::npos);
  rec.gateway_labels = nullptr;
  out.clear();
  AppendRecordLine(rec, out);
  CHECK(out.find(R"("labels":{"kind":"z2m","z":"last","zone":"b"},)") != std::string::npos);
}

TEST_CASE("a missing data object is written as an empty object") {
  RecordEnvelope rec{.gateway = "gw", .epoch = "1", .seq = 1, .topic = "t", .device = {}};
  std::string out;
  AppendRecordLine(rec, out);
  CHECK(out.ends_with(R"("labels":{},"data":{}})"
                      "\n"));
}

TEST_CASE("strings are escaped: quotes, backslashes, control characters; unicode kept") {
  CHECK(Escaped("plain") == R"("plain")");
  CHECK(Escaped("") == R"("")");
  CHECK(Escaped("say \"hi\"\\") == R"("say \"hi\"\\")");
  CHECK(Escaped("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(Escaped(std::string("\0\x01\x1f\x7f", 4)) == "\"\\u0000\\u0001\\u001f\x7f\"");
  CHECK(Escaped("Küche kaffee") == "\"Küche kaffee\"");
  CHECK(Escaped("🚪 door \u202eroolf") == "\"🚪 door \u202eroolf\"");
}

TEST_CASE("invalid UTF-8 is replaced with U+FFFD, one per maximal ill-formed subsequence") {
  CHECK(Escaped("\xb0"
                "C") == "\"\uFFFDC\"");
  CHECK(Escaped("a\xe2\x82") == "\"a\uFFFD\"");                // truncated 3-byte sequence
  CHECK(Escaped("\xed\xa0\x80") == "\"\uFFFD\uFFFD\uFFFD\"");  // encoded surrogate
  CHECK(Escaped("\xc0\xaf") == "\"\uFFFD\uFFFD\"");            // overlong
  CHECK(Escaped("\xf4\x90\x80\x80") == "\"\uFFFD\uFFFD\uFFFD\uFFFD\"");  // above U+10FFFF
  CHECK(Escaped("\xff\xfe{") == "\"\uFFFD\uFFFD{\"");
}

TEST_CASE("the string escaper writes what nlohmann's dump writes") {
  for (std::string s :
       {std::string("plain"), std::string("q\"b\\c\x01\x7f\n"), std::string("Küche 🚪 \u202e"),
        std::string("\xb0\xff"), std::string("a\xe2\x82"), std::string("\xed\xa0\x80z"),
        std::string("\xf0\x9f\x9a"), std::string("\xc0\xaf")}) {
    CAPTURE(s);
    CHECK(Escaped(s) == json(s).dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

TEST_CASE("a character to escape is found at every position of a long string") {
  for (std::string special :
       {std::string("\""), std::string("\\"), std::string("\n"), std::string(1, '\0'),
        std::string("\x1f"), std::string("\x7f"), std::string("é"), std::string("\xe2\x82\xac"),
        std::string("\xff"), std::string("\xe2\x82")}) {
    for (size_t at = 0; at <= 24; ++at) {
      std::string s = std::string(at, 'a') + special + std::string(24 - at, 'z');
      CAPTURE(s);
      CHECK(Escaped(s) == json(s).dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  CHECK(Escaped(std::string(40, ' ')) == "\"" + std::string(40, ' ') + "\"");
  CHECK(Escaped("0123456789abcdef\x19") == R"("0123456789abcdef\u0019")");
  CHECK(Escaped("0123456789abcdef!#[]~") == R"("0123456789abcdef!#[]~")");
}

TEST_CASE("invalid UTF-8 anywhere in the envelope or the data is replaced, never thrown") {
  json data = {{"unit",
                "\xb0"
                "C"}};
  std::map<std::string, std::string> labels = {{"room\xff", "k\xfe"}};
  RecordEnvelope rec{.gateway = "gw",
                     .epoch = "1",
                     .seq = 2,
                     .topic = "sensors/\xb0/\"x\"",
                     .device = "dev\x01\xc3",
                     .ts_ms = kTsMs,
                     .received_ms = kReceivedMs,
                     .route_labels = &labels,
                     .data = &data};
  std::string out;
  AppendRecordLine(rec, out);
  CHECK(out ==
        "{\"id\":\"gw.1.2\",\"seq\":2,\"gateway\":\"gw\",\"source\":\"mqtt\","
        "\"topic\":\"sensors/\uFFFD/\\\"x\\\"\",\"device\":\"dev\\u0001\uFFFD\","
        "\"ts\":\"2026-11-21T10:15:00.123Z\",\"ts_source\":\"received\","
        "\"received_at\":\"2026-11-21T10:15:00.456Z\","
        "\"labels\":{\"room\uFFFD\":\"k\uFFFD\"},\"data\":{\"unit\":\"\uFFFDC\"}}\n");
  CHECK(json::parse(out, nullptr, false).is_object());
}

TEST_CASE("a record id is gateway.epoch.seq") {
  CHECK(RecordId("gw-0042", "7", 1833) == "gw-0042.7.1833");
  CHECK(RecordId("g", "e", 0) == "g.e.0");
}

}  // namespace
}  // namespace ferry::agent

// Every dead letter the rules make carries the code of its metric label (Normalizer::Normalize),
// the one its text's prefix gave before the codes (issue 10, finding 12).
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "agent/normalize/normalizer.h"

namespace ferry::agent {
namespace {

constexpr int64_t kReceivedMs = 1'795'256'100'000;

// An NDATA naming its metric by alias 100 (no BIRTH defined it).
const std::string kNData(
    "\x08\xd2\xe2\x83\xb9\xfa\x32\x12\x0d\x10\x64\x20\x0a\x69\x00\x00\x00\x00\x00\x80\x36\x40"
    "\x18\x01",
    24);

struct Case {
  const char* name;
  std::function<void(Route&)> route;
  std::string topic;
  std::string payload;
  DeadLetterCode code;
  std::string prefix;  // of the text
};

TEST_CASE("each of the rules' dead letters carries its code next to its text") {
  auto none = [](Route&) {};
  const Case cases[] = {
      {"empty", none, "t", "", DeadLetterCode::kEmptyPayload, "empty payload"},
      {"blank", none, "t", " \n", DeadLetterCode::kEmptyPayload, "payload is only whitespace"},
      {"latin-1", none, "t",
       "\xb0"
       "C",
       DeadLetterCode::kInvalidUtf8, "payload is not valid UTF-8"},
      {"json", none, "t", "{\"t\":", DeadLetterCode::kInvalidJson, "invalid JSON at byte"},
      {"deep", [](Route& r) { r.max_depth = 2; }, "t", R"({"a":{"b":{"c":1}}})",
       DeadLetterCode::kTooDeep, "JSON nested deeper than 2 levels"},
      {"influx", [](Route& r) { r.payload = PayloadMode::kInflux; }, "t", "{}",
       DeadLetterCode::kInvalidLineProtocol, "invalid line protocol"},
      {"max_payload", [](Route& r) { r.max_payload = 4; }, "t", R"({"t":1})",
       DeadLetterCode::kTooLarge, "payload too large"},
      {"require",
       [](Route& r) {
         r.require = {{"t", "number"}};
       },
       "t", R"({"u":1})", DeadLetterCode::kValidationFailed, "validation failed: require"},
      {"data_field", [](Route& r) { r.data_field = "d"; }, "t", R"({"u":1})",
       DeadLetterCode::kValidationFailed, "validation failed: data_field"},
      {"decode_json", [](Route& r) { r.decode_json = "a"; }, "t", R"({"a":"{"})",
       DeadLetterCode::kInvalidJson, "invalid JSON in \"a\""},
      {"decode_json deep",
       [](Route& r) {
         r.decode_json = "a";
         r.max_depth = 2;
       },
       "t", R"({"a":"[[[1]]]"})", DeadLetterCode::kTooDeep, "JSON nested deeper than 2 levels in"},
      {"extract",
       [](Route& r) {
         r.extract = {{"value", "T=(?P<t>[0-9]+)"}};
       },
       "t", "hello", DeadLetterCode::kValidationFailed, "validation failed: extract"},
      {"bytes",
       [](Route& r) {
         r.bytes = {"d", BytesEncoding::kBase64, {{"x", "u8 0"}}};
       },
       "t", R"({"d":"!!"})", DeadLetterCode::kValidationFailed, "validation failed: bytes"},
      {"explode", [](Route& r) { r.explode.path = "a"; }, "t", R"({"a":1})",
       DeadLetterCode::kValidationFailed, "validation failed: explode"},
      {"explode element",
       [](Route& r) {
         r.explode.path = "a";
         r.data_field = "d";
       },
       "t", R"({"a":[{"d":1},{"x":1}]})", DeadLetterCode::kValidationFailed,
       "validation failed: data_field \"d\": missing (element 1)"},
      {"protobuf", none, "spBv1.0/g/NDATA/n", "\xff\xff", DeadLetterCode::kInvalidSparkplug,
       "sparkplug: invalid protobuf"},
      {"sparkplug topic", [](Route& r) { r.payload = PayloadMode::kSparkplug; }, "plc/x", kNData,
       DeadLetterCode::kInvalidSparkplug, "sparkplug: the topic is not"},
      {"sparkplug size", [](Route& r) { r.max_payload = 4; }, "spBv1.0/g/NDATA/n", kNData,
       DeadLetterCode::kTooLarge, "payload too large"},
      {"alias", none, "spBv1.0/g/NDATA/n", kNData, DeadLetterCode::kSparkplugUnknownAlias,
       "sparkplug: unknown alias 100"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Route route;
    route.topic = "#";
    c.route(route);
    Normalizer n({route});
    Normalized out;
    DeadLetterReason reason;
    std::vector<Normalized> more;
    REQUIRE(n.Normalize({c.topic, c.payload, kReceivedMs}, &out, &reason, &more) ==
            Outcome::kDeadLetter);
    CAPTURE(reason.text);
    CHECK(reason.code == c.code);
    CHECK(reason.text.starts_with(c.prefix));
  }
}

TEST_CASE("a caller that takes one record gets kInvalidMessage for a message that makes more") {
  Route route;
  route.topic = "#";
  route.explode.path = "a";
  Normalizer n({route});
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(n.Normalize({"t", R"({"a":[1,2]})", kReceivedMs}, &out, &reason) == Outcome::kDeadLetter);
  CHECK(reason.code == DeadLetterCode::kInvalidMessage);
  CHECK(reason.text == "explode: this caller takes one record per message");
}

}  // namespace
}  // namespace ferry::agent

// How payload.cc parses stays what it gave before it parsed less: the JSON depth limit, checked
// in the parse (DepthLimitedDom), dead-letters each payload as counting brackets before the
// parse did (random bracket soups against that count); the auto rule skips the parse for text
// that cannot be JSON and decodes every start byte as when it parsed all of them; past a byte
// order mark its parse is depth-limited too.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "agent/normalize/payload.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

// The check DecodeJson made before the depth moved into the parse.
bool CountedDeeperThan(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

TEST_CASE("the depth checked in the parse gives what counting brackets first gave") {
  std::mt19937 rng(15);
  const char kAlphabet[] = "[[[]]]{{}}\"\\:,1a ";
  int too_deep = 0, invalid = 0, ok = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    for (int n = static_cast<int>(rng() % 24); n > 0; --n) {
      s += kAlphabet[rng() % (sizeof kAlphabet - 1)];
    }
    if (rng() % 2 == 0) s = (rng() % 2 ? "[" : "{\"k\":") + s;
    std::string_view t = s;
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.empty()) continue;
    for (int max_depth : {1, 3}) {
      json data;
      DeadLetterReason reason;
      bool decoded =
          DecodePayload(s, {PayloadMode::kJson, "value", max_depth}, &data, nullptr, &reason);
      bool want_deep = (t.front() == '{' || t.front() == '[') && CountedDeeperThan(t, max_depth);
      bool want_ok = !want_deep && !json::parse(t, nullptr, false).is_discarded();
      CAPTURE(s);
      CAPTURE(max_depth);
      REQUIRE(decoded == want_ok);
      if (want_deep) {
        REQUIRE(reason.code == DeadLetterCode::kTooDeep);
        ++too_deep;
      } else if (!want_ok) {
        REQUIRE(reason.code == DeadLetterCode::kInvalidJson);
        ++invalid;
      } else {
        json parsed = json::parse(t);
        REQUIRE(data == (parsed.is_object() ? parsed : json{{"value", parsed}}));
        ++ok;
      }
    }
  }
  CHECK(too_deep > 1000);
  CHECK(invalid > 1000);
  CHECK(ok > 1000);
}

}  // namespace
}  // namespace ferry::agent

namespace ferry::agent {
namespace {

// What the auto rule gave when it tried every payload that is not an object or array as JSON.
json ParsedOrText(std::string_view t) {
  json parsed = json::parse(t, nullptr, false);
  if (parsed.is_discarded()) return json{{"value", ParsePlainValue(t)}};
  return parsed.is_object() ? parsed : json{{"value", parsed}};
}

TEST_CASE("auto: text that cannot start JSON is not parsed, and decodes as before") {
  std::vector<std::string> starts = {"\xEF\xBB\xBF", "\xC3\xA9", "\xE2\x82\xAC"};
  for (int c = 1; c < 0x80; ++c) starts.emplace_back(1, static_cast<char>(c));
  int as_json = 0;
  for (const std::string& start : starts) {
    for (std::string rest : {"", "1", "rue", "alse", "ull", "an", "\"", "x\"", " 5", "]", "1.5e3",
                             "42", "true", "\"s\"", "N"}) {
      std::string payload = start + rest;
      std::string_view t = payload;
      while (!t.empty() &&
             (t.front() == ' ' || t.front() == '\t' || t.front() == '\n' || t.front() == '\r')) {
        t.remove_prefix(1);
      }
      while (!t.empty() &&
             (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) {
        t.remove_suffix(1);
      }
      if (t.empty() || t.front() == '{' || t.front() == '[') continue;
      json data;
      DeadLetterReason reason;
      CAPTURE(payload);
      REQUIRE(DecodePayload(payload, {}, &data, nullptr, &reason));
      CHECK(data == ParsedOrText(t));
      as_json += !json::parse(t, nullptr, false).is_discarded();
    }
  }
  CHECK(as_json > 20);
  json data;
  DeadLetterReason reason;
  REQUIRE(
      DecodePayload("\xEF\xBB\xBF"
                    "42",
                    {}, &data, nullptr, &reason));
  CHECK(data == json{{"value", 42}});  // nlohmann skips a byte order mark
}

}  // namespace
}  // namespace ferry::agent

namespace ferry::agent {
namespace {

// After a byte order mark the auto rule handed the payload to nlohmann unbounded: a 1 MiB
// message of a BOM and 500000 '[' was taken as a record, and writing its line (AppendJson, as
// dump before it) recursed once per level until the stack overflowed (SIGSEGV).
TEST_CASE("regression: the auto rule bounds the depth after a byte order mark too") {
  const std::string kBom = "\xEF\xBB\xBF";
  for (PayloadMode mode : {PayloadMode::kAuto, PayloadMode::kJson}) {
    for (int levels : {129, 500000}) {
      json data;
      DeadLetterReason reason;
      CAPTURE(levels);
      REQUIRE_FALSE(DecodePayload(kBom + std::string(levels, '[') + std::string(levels, ']'),
                                  {mode, "value", kMaxJsonDepth}, &data, nullptr, &reason));
      CHECK(reason.code == DeadLetterCode::kTooDeep);
      CHECK(reason.text == "JSON nested deeper than 128 levels");
    }
    json data;
    DeadLetterReason reason;
    REQUIRE(DecodePayload(kBom + std::string(128, '[') + std::string(128, ']'),
                          {mode, "value", kMaxJsonDepth}, &data, nullptr, &reason));
    REQUIRE(DecodePayload(kBom + " {\"a\":[1,{\"b\":2}]}", {mode, "value", 3}, &data, nullptr,
                          &reason));
    CHECK(data == json{{"a", {1, {{"b", 2}}}}});
  }
  // Not JSON after the mark: text, as before.
  json data;
  DeadLetterReason reason;
  REQUIRE(DecodePayload(kBom + "[x", {}, &data, nullptr, &reason));
  CHECK(data == json{{"value", kBom + "[x"}});
}

}  // namespace
}  // namespace ferry::agent

// The JSON depth limit, checked in the parse (payload.cc's DepthLimitedDom), dead-letters each
// payload as counting brackets before the parse did: random bracket soups, against that count.
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

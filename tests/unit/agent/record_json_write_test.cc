// AppendJson writes the record line's `data` as nlohmann's dump (replace mode) would, byte for
// byte: fixed cases, random documents, and the data of every corpus message (device families and
// the hostile inputs) through every example config.
#include "agent/record/json_write.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "agent/normalize/normalizer.h"
#include "normalize_test_support.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

std::string Written(const json& v) {
  std::string out = "prefix:";  // appends, never replaces
  AppendJson(v, out);
  return out;
}

std::string Dumped(const json& v) {
  return "prefix:" + v.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST_CASE("scalars are written as nlohmann's dump writes them") {
  const double kInf = std::numeric_limits<double>::infinity();
  for (const json& v : {json(nullptr),
                        json(true),
                        json(false),
                        json(0),
                        json(-1),
                        json(42),
                        json(std::numeric_limits<int64_t>::min()),
                        json(std::numeric_limits<int64_t>::max()),
                        json(std::numeric_limits<uint64_t>::max()),
                        json(uint64_t{1465839830100400200}),
                        json(0.0),
                        json(-0.0),
                        json(1.0),
                        json(-3.0),
                        json(27.34),
                        json(0.1),
                        json(1e100),
                        json(1e-7),
                        json(1.5e-5),
                        json(123456789012345678.0),
                        json(1e15),
                        json(1e16),
                        json(1e17),
                        json(5e-324),
                        json(std::numeric_limits<double>::max()),
                        json(std::numeric_limits<double>::lowest()),
                        json(std::nan("")),
                        json(kInf),
                        json(-kInf),
                        json(""),
                        json("plain"),
                        json("say \"hi\"\\\b\f\n\r\t\x01\x1f\x7f")}) {
    CAPTURE(v.dump());
    CHECK(Written(v) == Dumped(v));
  }
  CHECK(Written(json(1.0)) == "prefix:1.0");
  CHECK(Written(json(1e100)) == "prefix:1e+100");
  CHECK(Written(json(std::nan(""))) == "prefix:null");
}

TEST_CASE("strings and keys: unicode kept, invalid UTF-8 replaced as dump replaces it") {
  for (std::string s :
       {std::string("Küche 🚪 \u202e"), std::string("\xb0\xff"), std::string("a\xe2\x82"),
        std::string("\xed\xa0\x80z"), std::string("\xf0\x9f\x9a"), std::string("\xc0\xaf"),
        std::string("\xe0\x80\x41"), std::string("\xf4\x90\x80\x80"), std::string("\0x", 2)}) {
    CAPTURE(s);
    json v = {{s, s}, {"k", json::array({s, json::object({{s, 1}})})}};
    CHECK(Written(v) == Dumped(v));
  }
}

TEST_CASE("nested and empty containers, keys in the object's order") {
  json v = json::parse(R"({"z":{"b":[1,[2,[]],{}],"a":{}},"a":[],"m":[{"y":null,"x":true}]})");
  CHECK(Written(v) == Dumped(v));
  CHECK(Written(v) ==
        R"(prefix:{"a":[],"m":[{"x":true,"y":null}],"z":{"a":{},"b":[1,[2,[]],{}]}})");
  CHECK(Written(json::object()) == "prefix:{}");
  CHECK(Written(json::array()) == "prefix:[]");
}

TEST_CASE("a value nested 128 levels deep is written whole") {
  json v = 1;
  for (int i = 0; i < 128; ++i) v = i % 2 ? json::array({v}) : json::object({{"a", v}});
  CHECK(Written(v) == Dumped(v));
}

TEST_CASE("binary values, never in a decoded payload, are written as dump writes them") {
  json v = {{"b", json::binary({1, 2, 3})}};
  CHECK(Written(v) == Dumped(v));
}

// Random documents: random bytes in strings and keys, every number kind, random nesting.
json RandomValue(std::mt19937_64& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto bytes = [&] {
    std::string s;
    for (int i = pick(12); i > 0; --i) {
      s += static_cast<char>(pick(3) == 0 ? pick(256)
                                          : "aZ \"\\\n\x01\xc3\xa9\xe2\x82\xac"[pick(13)]);
    }
    return s;
  };
  switch (depth >= 4 ? pick(6) : pick(8)) {
    case 0:
      return nullptr;
    case 1:
      return pick(2) == 0;
    case 2:
      return static_cast<int64_t>(rng());
    case 3:
      return static_cast<uint64_t>(rng());
    case 4: {
      uint64_t bits = rng();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return pick(2) == 0 ? d : static_cast<double>(pick(100000)) / 100.0;
    }
    case 5:
      return bytes();
    case 6: {
      json a = json::array();
      for (int i = pick(5); i > 0; --i) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (int i = pick(5); i > 0; --i) o[bytes()] = RandomValue(rng, depth + 1);
      return o;
    }
  }
}

TEST_CASE("random documents are written as dump writes them") {
  std::mt19937_64 rng(15);
  for (int i = 0; i < 5000; ++i) {
    json v = RandomValue(rng, 0);
    std::string want = Dumped(v);
    REQUIRE_MESSAGE(Written(v) == want, "document " << i);
  }
}

TEST_CASE("the data of every corpus message, through every example config, is written as dump") {
  std::vector<std::unique_ptr<Normalizer>> normalizers;
  normalizers.push_back(std::make_unique<Normalizer>(std::vector<Route>{}));
  for (const std::string& family : testing::Families()) {
    normalizers.push_back(std::make_unique<Normalizer>(testing::ExampleConfig(family).routes));
  }
  std::vector<std::string> families = testing::Families();
  families.push_back("nasty");
  size_t records = 0;
  for (const std::string& family : families) {
    for (const json& line : testing::DeviceLines(family)) {
      std::string topic = line.value("topic", json()).is_string() ? line["topic"].get<std::string>()
                                                                  : std::string("t");
      std::string payload = testing::PayloadOf(line);
      for (const auto& n : normalizers) {
        Normalized out;
        DeadLetterReason reason;
        std::vector<Normalized> more;
        if (n->Normalize({topic, payload, testing::kFixtureReceivedMs}, &out, &reason, &more) !=
            Outcome::kRecord) {
          continue;
        }
        more.push_back(std::move(out));
        for (const Normalized& r : more) {
          CAPTURE(payload);
          CHECK(Written(r.data) == Dumped(r.data));
          ++records;
        }
      }
    }
  }
  CHECK(records > 500);
}

}  // namespace
}  // namespace ferry::agent

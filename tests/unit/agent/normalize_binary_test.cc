// Binary payloads (route key `bytes`): base64 and hex strings decoded, fixed-layout fields read
// by type, offset, endianness, sign and scale.
#include <doctest/doctest.h>

#include <string>

#include "agent/normalize/binary_fields.h"
#include "agent/normalize/normalizer.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

json Apply(const BytesSpec& spec, json payload, std::string* reason = nullptr) {
  REQUIRE(CheckBytes(spec) == "");
  std::string r;
  bool ok = BinaryFields(spec).Apply(&payload, &r);
  if (reason != nullptr) *reason = ok ? "" : r;
  return payload;
}

TEST_CASE("base64 and hex decode to bytes") {
  CHECK(DecodeBase64("DQgA+QA=") == std::string("\x0d\x08\x00\xf9\x00", 5));
  CHECK(DecodeBase64("DQgA+QA") == std::string("\x0d\x08\x00\xf9\x00", 5));
  CHECK(DecodeBase64("qEBBTWGC4Ig=") == std::string("\xa8\x40\x41\x4d\x61\x82\xe0\x88", 8));
  CHECK(DecodeBase64("-_8=") == std::string("\xfb\xff", 2));
  CHECK(DecodeBase64("") == std::string());
  CHECK(DecodeBase64("A") == std::nullopt);
  CHECK(DecodeBase64("DQ g=") == std::nullopt);
  CHECK(DecodeHex("0d08A0") == std::string("\x0d\x08\xa0", 3));
  CHECK(DecodeHex("0d0") == std::nullopt);
  CHECK(DecodeHex("zz") == std::nullopt);
}

TEST_CASE("a Dragino LDDS75 frame reads as its codec says") {
  // ChirpStack's codec gave {"Bat":3.336,"Distance":249,"Interrupt_status":0} for this frame.
  BytesSpec spec{
      "data",
      BytesEncoding::kBase64,
      {{"battery_v", "u16be 0 1/1000"}, {"distance_mm", "u16be 2"}, {"interrupt", "u8 4"}}};
  json got = Apply(spec, json{{"data", "DQgA+QA="}});
  CHECK(got["battery_v"].get<double>() == doctest::Approx(3.336));
  CHECK(got["distance_mm"] == 249);
  CHECK(got["interrupt"] == 0);
  CHECK(got["data"] == "DQgA+QA=");
}

TEST_CASE("endianness, sign and width") {
  BytesSpec spec{"p.raw",
                 BytesEncoding::kHex,
                 {{"a", "u16le 0"},
                  {"b", "s16be 0"},
                  {"c", "s8 1"},
                  {"d", "u24be 1"},
                  {"e", "s32le 0"},
                  {"f", "s16be 4 0.1"},
                  {"g", "u32be 0"}}};
  json got = Apply(spec, json{{"p", {{"raw", "FF7F0102FF38"}}}});
  const json& p = got["p"];
  CHECK(p["a"] == 0x7FFF);
  CHECK(p["b"] == -129);  // 0xFF7F
  CHECK(p["c"] == 127);
  CHECK(p["d"] == 0x7F0102);
  CHECK(p["e"] == 0x02017FFF);
  CHECK(p["f"].get<double>() == doctest::Approx(-20.0));  // 0xFF38 = -200
  CHECK(p["g"] == 0xFF7F0102u);
}

TEST_CASE("a frame too short or not in its encoding dead-letters") {
  std::string reason;
  Apply({"data", BytesEncoding::kBase64, {{"d", "u16be 4"}}}, json{{"data", "DQgA"}}, &reason);
  CHECK(reason == "validation failed: bytes \"data\": 3 bytes, field \"d\" needs 6");
  Apply({"data", BytesEncoding::kBase64, {{"d", "u8 0"}}}, json{{"data", "not base64!"}}, &reason);
  CHECK(reason == "validation failed: bytes \"data\": not base64");
  Apply({"data", BytesEncoding::kHex, {{"d", "u8 0"}}}, json{{"data", "0g"}}, &reason);
  CHECK(reason == "validation failed: bytes \"data\": not hex");
  CHECK(Apply({"data", BytesEncoding::kHex, {{"d", "u8 0"}}}, json{{"data", 5}}, &reason) ==
        json{{"data", 5}});
  CHECK(reason == "");
}

TEST_CASE("bytes spec errors name the field") {
  CHECK(CheckBytes({"data", BytesEncoding::kBase64, {{"t", "s16be 2 1/10"}}}) == "");
  CHECK(CheckBytes({"data", BytesEncoding::kHex, {{"t", "i16 2"}}})
            .starts_with("fields \"t\": must be "));
  CHECK(CheckBytes({"data", BytesEncoding::kHex, {{"t", "u16 2"}}})
            .starts_with("fields \"t\": must be "));
  CHECK(CheckBytes({"data", BytesEncoding::kHex, {{"t", "u8 -1"}}}) ==
        "fields \"t\": the offset must be a byte number from 0");
  CHECK(CheckBytes({"data", BytesEncoding::kHex, {{"t", "u8 0 x"}}}) ==
        "fields \"t\": the scale must be a decimal or a fraction like \"1/1000\"");
  CHECK(CheckBytes({"", BytesEncoding::kHex, {{"t", "u8 0"}}}) == "fields need a path");
}

TEST_CASE("the route's bytes run before device and time, so a frame can give them") {
  Route r;
  r.topic = "ble/{mac}";
  r.bytes = {"adv", BytesEncoding::kHex, {{"temp_c", "s16le 0 1/100"}, {"humidity", "u8 2"}}};
  r.keep = "temp_c, humidity";
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(Normalizer({r}).Normalize({"ble/a4c1", R"({"adv":"2a0837"})", 1}, &out, &reason) ==
          Outcome::kRecord);
  CHECK(out.data["temp_c"].get<double>() == doctest::Approx(20.9));
  CHECK(out.data["humidity"] == 55);
}

}  // namespace
}  // namespace ferry::agent

// InfluxDB line protocol into Telegraf's JSON shape.
#include "agent/normalize/line_protocol.h"

#include <doctest/doctest.h>

#include <string>

namespace ferry::agent {
namespace {

using nlohmann::json;

json Parse(std::string_view text) {
  json out;
  std::string reason;
  REQUIRE_MESSAGE(ParseLineProtocol(text, &out, &reason), reason);
  return out;
}

std::string Reason(std::string_view text) {
  json out;
  std::string reason;
  if (ParseLineProtocol(text, &out, &reason)) return "parsed: " + out.dump();
  return reason;
}

TEST_CASE("the Telegraf default line becomes name, tags, fields and an exact timestamp") {
  json m = Parse("weather,location=us-midwest temperature=82 1465839830100400200");
  CHECK(m == json{{"name", "weather"},
                  {"tags", {{"location", "us-midwest"}}},
                  {"fields", {{"temperature", 82.0}}},
                  {"timestamp", 1465839830100400200}});
  CHECK(m["fields"]["temperature"].is_number_float());
  CHECK(m["timestamp"].get<int64_t>() == 1465839830100400200);
}

TEST_CASE("field values are floats, i-integers, u-integers, strings or bools") {
  json f = Parse(R"(m a=1,b=-1.5e3,c=82i,d=-9223372036854775808i,e=18446744073709551615u,)"
                 R"(f="too warm",g="say \"hi\" \\ ok",h=t,i=FALSE,j=True,k=f)")["fields"];
  CHECK(f["a"] == 1.0);
  CHECK(f["a"].is_number_float());
  CHECK(f["b"] == -1500.0);
  CHECK(f["c"] == 82);
  CHECK(f["c"].is_number_integer());
  CHECK(f["d"].get<int64_t>() == INT64_MIN);
  CHECK(f["e"].get<uint64_t>() == UINT64_MAX);
  CHECK(f["f"] == "too warm");
  CHECK(f["g"] == "say \"hi\" \\ ok");
  CHECK(f["h"] == true);
  CHECK(f["i"] == false);
  CHECK(f["j"] == true);
  CHECK(f["k"] == false);
}

TEST_CASE("escapes in measurement, tag and field keys; no tags; no timestamp") {
  json m = Parse(R"(cpu\ load\,x,host\=a=web\ 01,r\,k=v\,w us\ er=1)");
  CHECK(m["name"] == "cpu load,x");
  CHECK(m["tags"] == json{{"host=a", "web 01"}, {"r,k", "v,w"}});
  CHECK(m["fields"] == json{{"us er", 1.0}});
  CHECK_FALSE(m.contains("timestamp"));
  CHECK(Parse("m v=1")["tags"] == json::object());
  CHECK(Parse("m v=1 -5")["timestamp"] == -5);
}

TEST_CASE("several lines become a metrics batch; comments and blank lines are skipped") {
  json m = Parse("# comment\nm v=1 1\r\n\n  \nn v=2i 2\n");
  REQUIRE(m.contains("metrics"));
  CHECK(m["metrics"].size() == 2);
  CHECK(m["metrics"][1]["fields"]["v"] == 2);
}

TEST_CASE("malformed lines are refused with the byte and what was expected") {
  CHECK(Reason("") == "invalid line protocol at byte 0: no metric");
  CHECK(Reason("# only a comment") == "invalid line protocol at byte 0: no metric");
  CHECK(Reason("weather") == "invalid line protocol at byte 7: expected a space before the fields");
  CHECK(Reason("weather ") == "invalid line protocol at byte 8: empty field key");
  CHECK(Reason("w v") == "invalid line protocol at byte 3: expected '=' after a field key");
  CHECK(Reason("w v=") == "invalid line protocol at byte 4: missing field value");
  CHECK(Reason("w v=abc") == "invalid line protocol at byte 4: bad field value \"abc\"");
  CHECK(Reason("w v=nan") == "invalid line protocol at byte 4: bad field value \"nan\"");
  CHECK(Reason("w v=inf") == "invalid line protocol at byte 4: bad field value \"inf\"");
  CHECK(Reason("w v=1e400") == "invalid line protocol at byte 4: bad field value \"1e400\"");
  CHECK(Reason("w v=99999999999999999999i") ==
        "invalid line protocol at byte 4: bad integer field value");
  CHECK(Reason("w v=-1u") == "invalid line protocol at byte 4: bad unsigned field value");
  CHECK(Reason("w v=\"open") == "invalid line protocol at byte 9: expected a closing '\"'");
  CHECK(Reason("w v=1 12x") ==
        "invalid line protocol at byte 6: bad timestamp (an integer is expected)");
  CHECK(Reason("w,t v=1") == "invalid line protocol at byte 3: expected '=' after a tag key");
  CHECK(Reason("w,t= v=1") == "invalid line protocol at byte 4: empty tag value");
  CHECK(Reason(",t=1 v=1") == "invalid line protocol at byte 0: empty measurement");
  CHECK(Reason("ok v=1\nbad") ==
        "invalid line protocol at byte 10: expected a space before the fields");
  CHECK(Reason("{\"a\":1}").starts_with("invalid line protocol at byte "));
}

}  // namespace
}  // namespace ferry::agent

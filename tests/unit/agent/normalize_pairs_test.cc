// Name/value pairs to typed fields (route key `pairs`), and JSON inside a string at a path
// (route key `decode_json`).
#include <doctest/doctest.h>

#include <string>

#include "agent/normalize/normalizer.h"
#include "agent/normalize/pairs.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

json Apply(const PairsSpec& spec, json data) {
  REQUIRE(CheckPairs(spec) == "");
  Pairs(spec).Apply(&data);
  return data;
}

TEST_CASE("pairs become fields of the object that held them") {
  PairsSpec spec;
  spec.path = "tags";
  CHECK(Apply(spec, json::parse(R"({"node":"modbus","tags":[{"name":"tag0","value":123},
        {"name":"tag1","value":"on"}]})")) ==
        json{{"node", "modbus"}, {"tag0", 123}, {"tag1", "on"}});
  spec.path = "event.readings";
  CHECK(Apply(spec, json::parse(R"({"event":{"id":"e1","readings":[{"name":"t","value":1}]}})")) ==
        json{{"event", {{"id", "e1"}, {"t", 1}}}});
}

TEST_CASE("the first present name and value path wins") {
  PairsSpec spec;
  spec.path = "r";
  spec.name = "resourceName, name";
  spec.value = "val, value";
  CHECK(Apply(spec, json::parse(R"({"r":[{"resourceName":"a","name":"x","value":1},
        {"name":"b","val":2,"value":3}]})")) == json{{"a", 1}, {"b", 2}});
}

TEST_CASE("a type name in the pair types its value; unknown names leave it as it is") {
  PairsSpec spec;
  spec.path = "readings";
  spec.name = "resourceName";
  spec.type = "valueType";
  json got = Apply(spec, json::parse(R"({"readings":[
      {"resourceName":"f","valueType":"Float32","value":"-2.038811e+38"},
      {"resourceName":"i","valueType":"Int64","value":"42"},
      {"resourceName":"u","valueType":"Uint8","value":"7"},
      {"resourceName":"b","valueType":"Bool","value":"true"},
      {"resourceName":"s","valueType":"String","value":"12"},
      {"resourceName":"bad","valueType":"Int16","value":"n/a"},
      {"resourceName":"bin","valueType":"Binary","value":"AQI="}]})"));
  CHECK(got["f"].is_number_float());
  CHECK(got["f"].get<double>() == doctest::Approx(-2.038811e+38));
  CHECK(got["i"] == 42);
  CHECK(got["i"].is_number_integer());
  CHECK(got["u"] == 7);
  CHECK(got["b"] == true);
  CHECK(got["s"] == "12");
  CHECK(got["bad"].is_null());  // a value that does not convert is null, never 0
  CHECK(got["bin"] == "AQI=");
}

TEST_CASE("value_type types the values that carry no type name") {
  PairsSpec spec;
  spec.path = "p";
  spec.value_type = PairsValueType::kText;
  CHECK(Apply(spec, json::parse(R"({"p":[{"name":"a","value":"21.5"},{"name":"b","value":"nan"},
        {"name":"c","value":"ON"},{"name":"d","value":4}]})")) ==
        json{{"a", 21.5}, {"b", nullptr}, {"c", "ON"}, {"d", 4}});
  spec.value_type = PairsValueType::kFloat;
  CHECK(Apply(spec, json::parse(R"({"p":[{"name":"a","value":"3"}]})")) == json{{"a", 3.0}});
}

TEST_CASE("pairs without a name or a value stay in the array") {
  PairsSpec spec;
  spec.path = "tags";
  CHECK(Apply(spec, json::parse(R"({"tags":[{"name":"tag0","value":1},{"name":"tag1","error":2014},
        {"value":5},7,{"name":"n","value":null}]})")) ==
        json::parse(R"({"tag0":1,"n":null,"tags":[{"name":"tag1","error":2014},{"value":5},7]})"));
}

TEST_CASE("a pairs path that holds no array leaves the data alone") {
  PairsSpec spec;
  spec.path = "tags";
  CHECK(Apply(spec, json{{"tags", "x"}}) == json{{"tags", "x"}});
  CHECK(Apply(spec, json{{"other", 1}}) == json{{"other", 1}});
}

TEST_CASE("pairs spec errors name the key") {
  PairsSpec spec;
  spec.path = "a";
  spec.name = " , ";
  CHECK(CheckPairs(spec) == "name: must name at least one path");
  spec.name = "a..b";
  CHECK(CheckPairs(spec).starts_with("name: must be a dotted path"));
}

TEST_CASE("type names map to casts") {
  CHECK(CastOfTypeName("Float64") == CastType::kFloat);
  CHECK(CastOfTypeName("INT8") == CastType::kInt);
  CHECK(CastOfTypeName("uint32") == CastType::kInt);
  CHECK(CastOfTypeName("Bool") == CastType::kBool);
  CHECK(CastOfTypeName("boolean") == CastType::kBool);
  CHECK(CastOfTypeName("String") == CastType::kString);
  CHECK(CastOfTypeName("Float32Array") == CastType::kFloat);  // an array value becomes null
  CHECK(CastOfTypeName("Binary") == std::nullopt);
}

Outcome Run(const Route& route, std::string_view payload, Normalized* out,
            DeadLetterReason* reason) {
  return Normalizer({route}).Normalize({"t", payload, 1'795'256'100'000}, out, reason);
}

TEST_CASE("decode_json decodes JSON written into a string, before device and time") {
  Route r;
  r.topic = "t";
  r.decode_json = "objectJSON";
  r.device_field = "objectJSON.device";
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(Run(r, R"({"deviceName":"ldds75","objectJSON":"{\"Bat\":3.336,\"device\":\"d1\"}"})",
              &out, &reason) == Outcome::kRecord);
  CHECK(out.device == "d1");
  CHECK(out.data ==
        json::parse(R"({"deviceName":"ldds75","objectJSON":{"Bat":3.336,"device":"d1"}})"));
  // Absent, empty or already decoded: left alone.
  REQUIRE(Run(r, R"({"objectJSON":""})", &out, &reason) == Outcome::kRecord);
  CHECK(out.data == json{{"objectJSON", ""}});
  REQUIRE(Run(r, R"({"objectJSON":{"a":1}})", &out, &reason) == Outcome::kRecord);
  REQUIRE(Run(r, R"({"x":1})", &out, &reason) == Outcome::kRecord);
}

TEST_CASE("decode_json of a string that is not JSON dead-letters, naming the path") {
  Route r;
  r.topic = "t";
  r.decode_json = "a.b";
  r.max_depth = 3;
  Normalized out;
  DeadLetterReason reason;
  CHECK(Run(r, R"({"a":{"b":"{\"x\":"}})", &out, &reason) == Outcome::kDeadLetter);
  CHECK(reason.text.starts_with("invalid JSON in \"a.b\" at byte "));
  CHECK(Run(r, R"({"a":{"b":"[[[[1]]]]"}})", &out, &reason) == Outcome::kDeadLetter);
  CHECK(reason.text == "JSON nested deeper than 3 levels in \"a.b\"");
}

}  // namespace
}  // namespace ferry::agent

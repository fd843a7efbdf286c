// Validation rules of a route: require, max_payload, max_depth, max_fields, and the reasons.
#include "agent/normalize/validate.h"

#include <doctest/doctest.h>

#include <string>

#include "agent/normalize/normalizer.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

std::string Problem(const std::map<std::string, std::string>& require, const json& payload) {
  ValidationSpec spec;
  spec.require = require;
  REQUIRE(CheckValidation(spec) == "");
  std::string reason;
  return Validator(spec).CheckFields(payload, &reason) ? "ok" : reason;
}

TEST_CASE("required fields must be present, not null, of the type and in the range") {
  const json p = {{"temperature", 21.5},  {"count", 3},  {"name", "x"},     {"ok", true},
                  {"nested", {{"v", 7}}}, {"list", {1}}, {"gone", nullptr}, {"whole", 4.0}};
  CHECK(Problem({{"temperature", "number -40..125"}}, p) == "ok");
  CHECK(Problem({{"temperature", "number"},
                 {"count", "integer 0.."},
                 {"name", "string"},
                 {"ok", "bool"},
                 {"nested", "object"},
                 {"list", "array"},
                 {"nested.v", "any"},
                 {"whole", "integer ..4"}},
                p) == "ok");
  CHECK(Problem({{"humidity", "number"}}, p) == "validation failed: require \"humidity\": missing");
  CHECK(Problem({{"gone", "any"}}, p) == "validation failed: require \"gone\": null");
  CHECK(Problem({{"name", "number"}}, p) ==
        "validation failed: require \"name\": expected a number, got a string");
  CHECK(Problem({{"temperature", "integer"}}, p) ==
        "validation failed: require \"temperature\": expected an integer, got a number");
  CHECK(Problem({{"temperature", "number 22..30"}}, p) ==
        "validation failed: require \"temperature\": 21.5 is below the minimum 22.0");
  CHECK(Problem({{"count", "integer ..2"}}, p) ==
        "validation failed: require \"count\": 3 is above the maximum 2.0");
  CHECK(Problem({{"nested.v", "string"}}, p) ==
        "validation failed: require \"nested.v\": expected a string, got an integer");
}

TEST_CASE("requirement specs that do not parse are reported") {
  std::string error;
  CHECK_FALSE(ParseRequirement("t", "float", &error));
  CHECK(error.find("the type must be one of") != std::string::npos);
  CHECK_FALSE(ParseRequirement("t", "string 1..2", &error));
  CHECK(error.find("a range is") != std::string::npos);
  CHECK_FALSE(ParseRequirement("t", "number 5..1", &error));
  CHECK_FALSE(ParseRequirement("t", "number 1-5", &error));
  CHECK_FALSE(ParseRequirement("t", "number x..5", &error));
  CHECK_FALSE(ParseRequirement("a..b", "number", &error));
  CHECK(error.starts_with("must be a dotted path"));
  CHECK(ParseRequirement("t", "number ..", &error));
  ValidationSpec spec;
  spec.require = {{"t", "float"}};
  CHECK(CheckValidation(spec).starts_with("\"t\": \"float\": the type must be one of"));
}

TEST_CASE("max_fields counts members and elements at every depth") {
  ValidationSpec spec;
  spec.max_fields = 4;
  Validator v(spec);
  std::string reason;
  CHECK(v.CheckFields({{"a", 1}, {"b", {{"c", 1}}}, {"d", 1}}, &reason));  // a b c d
  CHECK_FALSE(v.CheckFields({{"a", 1}, {"b", {1, 2}}, {"d", 1}}, &reason));
  CHECK(reason == "validation failed: max_fields: more than 4 fields");
}

TEST_CASE("route limits dead-letter with reasons naming the rule") {
  Route r;
  r.topic = std::string(1, '#');  // not = "#": GCC 12 warns a false -Wrestrict on that
  r.max_payload = 10;
  r.max_depth = 2;
  r.require = {{"t", "number"}};
  Normalizer n({r});
  Normalized out;
  DeadLetterReason reason;
  CHECK(n.Normalize({"a", R"({"t":1,"xxxxx":1})", 0}, &out, &reason) == Outcome::kDeadLetter);
  CHECK(reason.text == "payload too large: 17 bytes, route max_payload is 10");
  r.max_payload = 0;
  n = Normalizer({r});
  CHECK(n.Normalize({"a", R"({"t":{"u":[1]}})", 0}, &out, &reason) == Outcome::kDeadLetter);
  CHECK(reason.text == "JSON nested deeper than 2 levels");
  CHECK(n.Normalize({"a", R"({"u":1})", 0}, &out, &reason) == Outcome::kDeadLetter);
  CHECK(reason.text == "validation failed: require \"t\": missing");
  CHECK(n.Normalize({"a", R"({"t":1})", 0}, &out, &reason) == Outcome::kRecord);
}

}  // namespace
}  // namespace ferry::agent

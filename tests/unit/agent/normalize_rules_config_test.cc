// Config errors of the route keys device, decode_json, explode and pairs: each names its key
// by its path and says what is wrong.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

std::string ErrorOf(const json& route) {
  json doc = {{"gateway", {{"id", "gw"}}},
              {"mqtt", {{"subscriptions", json::array({{{"topic", "#"}}})}}},
              {"upstream", {{"url", "http://127.0.0.1:8080/v1/batches"}}},
              {"routes", json::array({route})}};
  auto result = ParseConfig(doc.dump());
  return result.ok() ? "" : result.status().message();
}

TEST_CASE("the new route keys parse with their defaults") {
  json doc = {{"gateway", {{"id", "gw"}}},
              {"mqtt", {{"subscriptions", json::array({{{"topic", "#"}}})}}},
              {"upstream", {{"url", "http://127.0.0.1:8080/v1/batches"}}},
              {"routes", json::array({{{"topic", "a"},
                                       {"device", "{.model}-{.id}"},
                                       {"explode", {{"path", "r"}, {"carry", {{"g", "gw"}}}}},
                                       {"pairs", {{"path", "tags"}}}}})}};
  auto result = ParseConfig(doc.dump());
  REQUIRE(result.ok());
  const Route& r = result->routes[0];
  CHECK(r.device == "{.model}-{.id}");
  CHECK(r.explode.path == "r");
  CHECK(r.explode.carry.at("g") == "gw");
  CHECK(r.pairs.path == "tags");
  CHECK(r.pairs.name == "name");
  CHECK(r.pairs.value == "value");
  CHECK(r.pairs.value_type == PairsValueType::kAuto);
  CHECK(r.decode_json == "");
}

TEST_CASE("bad values of the new route keys are errors naming the key path") {
  struct Case {
    json route;
    std::string error;
  };
  const Case cases[] = {
      {{{"topic", "a"}, {"device", "{.model"}},
       "/routes/0/device: '{' at byte 0 is not closed by '}'"},
      {{{"topic", "a"}, {"device", "{.a}, {}"}}, "/routes/0/device: empty placeholder \"{}\""},
      {{{"topic", "a"}, {"labels", {{"node", "{.a..b}"}}}},
       "/routes/0/labels: \"node\": placeholder \"{.a..b}\": payload path must be a dotted path"},
      {{{"topic", "a"}, {"decode_json", "a, .b"}}, "/routes/0/decode_json: must be a dotted path"},
      {{{"topic", "a"}, {"explode", {{"path", "a..b"}}}},
       "/routes/0/explode/path: must be a dotted path"},
      {{{"topic", "a"}, {"explode", {{"path", "a"}, {"carry", {{"x", "y."}}}}}},
       "/routes/0/explode/carry: carry \"x\": must be a dotted path"},
      {{{"topic", "a"}, {"explode", {{"carry", {{"x", "y"}}}}}},
       "/routes/0/explode/carry: needs /routes/0/explode/path"},
      {{{"topic", "a"}, {"explode", {{"paths", "a"}}}}, "/routes/0/explode/paths: unknown key"},
      {{{"topic", "a"}, {"explode", "a"}}, "/routes/0/explode: expected an object"},
      {{{"topic", "a"}, {"pairs", {{"path", "t"}, {"value_type", "double"}}}},
       "/routes/0/pairs/value_type: expected one of \"auto\", \"text\", \"int\", \"float\", "
       "\"bool\", \"string\"; got \"double\""},
      {{{"topic", "a"}, {"pairs", {{"path", "t"}, {"name", ""}}}},
       "/routes/0/pairs/name: must not be empty"},
      {{{"topic", "a"}, {"pairs", {{"path", "t"}, {"type", "a."}}}},
       "/routes/0/pairs/type: must be a dotted path"},
      {{{"topic", "a"}, {"match", {{"model", ""}}}},
       "/routes/0/match: \"model\": must list at least one value"},
      {{{"topic", "a"}, {"match", {{"model", 5}}}}, "/routes/0/match: "},
      {{{"topic", "a"}, {"match_pattern", {{"model", "(x"}}}},
       "/routes/0/match_pattern: \"model\": not an RE2 pattern: "},
      {{{"topic", "a"}, {"extract", {{"value", "[0-9]+"}}}},
       "/routes/0/extract: \"value\": the pattern has no named group"},
      {{{"topic", "a"}, {"scale_first", "yes"}}, "/routes/0/scale_first: expected true or false"},
      {{{"topic", "a"}, {"utc_times", "a,,b.."}}, "/routes/0/utc_times: must be a dotted path"},
      {{{"topic", "a"}, {"bytes", {{"path", "d"}, {"encoding", "base32"}}}},
       "/routes/0/bytes/encoding: expected one of \"base64\", \"hex\"; got \"base32\""},
      {{{"topic", "a"}, {"bytes", {{"path", "d"}, {"fields", {{"t", "u16 0"}}}}}},
       "/routes/0/bytes/fields: \"t\": must be \"<type> <offset> [<scale>]\""},
      {{{"topic", "a"}, {"bytes", {{"fields", {{"t", "u8 0"}}}}}},
       "/routes/0/bytes/fields: needs /routes/0/bytes/path"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.route.dump());
    std::string error = ErrorOf(c.route);
    CHECK(error.starts_with(c.error));
  }
}

}  // namespace
}  // namespace ferry::agent

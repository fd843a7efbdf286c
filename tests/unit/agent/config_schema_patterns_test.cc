// Issue 14, item 9: the JSON Schema was looser than check-config (it took the gateway id
// "gw 1!" and an ftp:// upstream url). The schema's patterns are held here against
// check-config itself, value by value.
#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

json Schema() { return json::parse(ConfigJsonSchema()); }

// What the schema says of `value` at the key schema `key`: its pattern and length bounds.
bool SchemaAccepts(const json& key, const std::string& value) {
  if (key.contains("minLength") && value.size() < key["minLength"].get<size_t>()) return false;
  if (key.contains("maxLength") && value.size() > key["maxLength"].get<size_t>()) return false;
  REQUIRE(key.contains("pattern"));
  return std::regex_search(value, std::regex(key["pattern"].get<std::string>()));
}

// What check-config says of a config that differs from a valid one only at `section`.`name`.
bool CheckConfigAccepts(const char* section, const char* name, const std::string& value) {
  json doc = {{"gateway", {{"id", "gw-1"}}},
              {"mqtt", {{"subscriptions", {{{"topic", "a/#"}}}}}},
              {"upstream", {{"url", "http://127.0.0.1:8080/v1/batches"}}}};
  doc[section][name] = value;
  return ParseConfig(doc.dump()).ok();
}

}  // namespace

TEST_CASE("the schema refuses the gateway ids check-config refuses, and takes the others") {
  json key = Schema().at(json::json_pointer("/properties/gateway/properties/id"));
  for (const std::string& id :
       std::vector<std::string>{"gw 1!", "", std::string(65, 'a'), "gw/1", "gw.1", "g\xc3\xa9"}) {
    INFO("gateway id \"", id, "\"");
    CHECK_FALSE(CheckConfigAccepts("gateway", "id", id));
    CHECK_FALSE(SchemaAccepts(key, id));
  }
  for (const std::string& id :
       std::vector<std::string>{"gw-0042", "A_b-9", std::string(64, 'z'), "1"}) {
    INFO("gateway id \"", id, "\"");
    CHECK(CheckConfigAccepts("gateway", "id", id));
    CHECK(SchemaAccepts(key, id));
  }
}

TEST_CASE("the schema refuses the upstream urls check-config refuses, and takes the others") {
  json key = Schema().at(json::json_pointer("/properties/upstream/properties/url"));
  for (const char* url :
       {"ftp://10.0.0.5/v1/batches", "HTTP://host/x", "http://", "host:8080", "http://user@host/x",
        "http://host/a b", "http://host/x#frag", "file:///etc/passwd"}) {
    INFO("upstream url ", url);
    CHECK_FALSE(CheckConfigAccepts("upstream", "url", url));
    CHECK_FALSE(SchemaAccepts(key, url));
  }
  for (const char* url : {"http://10.0.0.5:8080/v1/batches", "https://landing.example.com",
                          "http://host?x=1", "https://[::1]:8443/v1"}) {
    INFO("upstream url ", url);
    CHECK(CheckConfigAccepts("upstream", "url", url));
    CHECK(SchemaAccepts(key, url));
  }
  // s3:// follows whatever the agent's check says: the schema asks it.
  const char* s3 = "s3://ferry-batches/site-7";
  CHECK(SchemaAccepts(key, s3) == CheckConfigAccepts("upstream", "url", s3));
}

}  // namespace ferry::agent

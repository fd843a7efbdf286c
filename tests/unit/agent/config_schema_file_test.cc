// config/ferry.schema.json is generated from the config declaration; this keeps them equal.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"

namespace {

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/" + relative);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("config/ferry.schema.json is the schema the config declaration generates") {
  std::string file = ReadSource("config/ferry.schema.json");
  INFO("config/ferry.schema.json is out of date: run `make schema`");
  CHECK(file == ferry::agent::ConfigJsonSchema());
}

TEST_CASE("the config schema is a JSON Schema with every declared key") {
  nlohmann::json schema = nlohmann::json::parse(ferry::agent::ConfigJsonSchema(), nullptr, false);
  REQUIRE(schema.is_object());
  CHECK(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema");
  CHECK(schema["additionalProperties"] == false);
  CHECK(schema["required"] == nlohmann::json({"gateway", "mqtt", "upstream"}));
  for (const std::string& path : ferry::agent::ConfigKeyPaths()) {
    // "/mqtt/subscriptions/*/topic" -> /properties/mqtt/properties/subscriptions/items/...;
    // "/transforms/*/command" -> .../transforms/additionalProperties/... (an object of objects)
    std::string pointer;
    size_t start = 1;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      std::string step = path.substr(start, end - start);
      if (step == "*") {
        const auto& node = schema.at(nlohmann::json::json_pointer(pointer));
        pointer += node.contains("items") ? "/items" : "/additionalProperties";
      } else {
        pointer += "/properties/" + step;
      }
      start = end + 1;
    }
    INFO(path);
    CHECK(schema.contains(nlohmann::json::json_pointer(pointer)));
  }
}

TEST_CASE("the config schema states types, bounds, enums and defaults") {
  nlohmann::json schema = nlohmann::json::parse(ferry::agent::ConfigJsonSchema());
  auto at = [&](const char* pointer) { return schema.at(nlohmann::json::json_pointer(pointer)); };
  nlohmann::json port = at("/properties/mqtt/properties/port");
  CHECK(port["type"] == "integer");
  CHECK(port["minimum"] == 1);
  CHECK(port["maximum"] == 65535);
  CHECK(port["default"] == 1883);
  nlohmann::json sync = at("/properties/storage/properties/sync");
  CHECK(sync["enum"] == nlohmann::json({"full", "normal"}));
  nlohmann::json linger = at("/properties/upstream/properties/batch/properties/linger");
  CHECK(linger["pattern"] == "^[0-9]+(ms|s|m|h|d)$");
  CHECK(linger["description"].get<std::string>().find("from 0s to 1h") != std::string::npos);
  nlohmann::json subscriptions = at("/properties/mqtt/properties/subscriptions");
  CHECK(subscriptions["type"] == "array");
  CHECK(subscriptions["minItems"] == 1);
  CHECK(subscriptions["items"]["required"] == nlohmann::json({"topic"}));
  CHECK(subscriptions["items"]["additionalProperties"] == false);
  // A derived default is described, not stated: the schema would otherwise claim a literal.
  CHECK_FALSE(at("/properties/mqtt/properties/client_id").contains("default"));
}

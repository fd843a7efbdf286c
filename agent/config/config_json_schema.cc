// The config as a JSON Schema (draft 2020-12), generated from the declarations in
// config_schema.cc, for editors and fleet tooling. What a schema cannot say (durations' and
// sizes' bounds, most of a URL's form) is in each key's description; the agent's own
// validation (`ferry check-config`) stays the one that decides. A few keys' checks are also
// stated as a "pattern" (KeyPattern below), so an editor flags what check-config would refuse.
#include <algorithm>
#include <string>
#include <vector>

#include "agent/config/config_schema.h"

namespace ferry::agent {
namespace {

using Json = nlohmann::ordered_json;
using schema::KeyInfo;
using schema::KeyType;

constexpr const char* kDurationPattern = "^[0-9]+(ms|s|m|h|d)$";
constexpr const char* kSizePattern = "^[0-9]+(KiB|MiB|GiB|KB|MB|GB)?$";

std::string BoundText(const KeyInfo& key, int64_t n) {
  if (key.type == KeyType::kDuration) return FormatDuration(n);
  if (key.type == KeyType::kSize) return FormatSize(static_cast<uint64_t>(n));
  return std::to_string(n);
}

// Bounds a schema cannot state on a string ("30s", "64MiB"), said in words.
std::string BoundsNote(const KeyInfo& key) {
  if (key.min && key.max)
    return "from " + BoundText(key, *key.min) + " to " + BoundText(key, *key.max);
  if (key.min) return "at least " + BoundText(key, *key.min);
  if (key.max) return "at most " + BoundText(key, *key.max);
  return "";
}

void AddBounds(const KeyInfo& key, const char* min_name, const char* max_name, Json* out) {
  if (key.min) (*out)[min_name] = *key.min;
  if (key.max) (*out)[max_name] = *key.max;
}

// The gateway id's characters (CheckGatewayId in config_schema.cc); the length comes from the
// key's declared bounds.
std::string GatewayIdPattern(const KeyInfo& key) {
  return "^[A-Za-z0-9_-]{" + std::to_string(key.min.value_or(0)) + "," +
         (key.max ? std::to_string(*key.max) : "") + "}$";
}

// The upstream URL's schemes: those the key's own check accepts, asked of it, so an upstream
// kind the agent learns (s3://) reaches the schema without a second list to keep in step.
std::string UpstreamUrlPattern(const KeyInfo& key) {
  std::string schemes;
  for (const char* scheme : {"http", "https", "s3"}) {
    schema::Value probe;
    probe.path = key.path;
    probe.text = std::string(scheme) + "://example-host/path";
    if (key.check && !key.check(probe).empty()) continue;
    schemes += (schemes.empty() ? "" : "|") + std::string(scheme);
  }
  return "^(" + schemes + ")://[^/?#@\\s]+([/?][^#\\s]*)?$";
}

// Keys whose check a schema can state as a pattern, by path. A unit test holds each pattern
// against check-config on good and bad values (tests/unit/agent/config_json_schema_test.cc).
struct KeyPattern {
  const char* path;
  std::string (*pattern)(const KeyInfo& key);
};
constexpr KeyPattern kPatterns[] = {
    {"/gateway/id", GatewayIdPattern},
    {"/upstream/url", UpstreamUrlPattern},
};

Json ObjectSchema(const std::vector<KeyInfo>& keys);

Json KeySchema(const KeyInfo& key) {
  Json out = Json::object();
  std::string description = key.help;
  std::string note = key.allowed_doc;
  switch (key.type) {
    case KeyType::kString:
      out["type"] = "string";
      AddBounds(key, "minLength", "maxLength", &out);
      for (const KeyPattern& p : kPatterns) {
        if (key.path == p.path) out["pattern"] = p.pattern(key);
      }
      break;
    case KeyType::kEnum:
      out["type"] = "string";
      out["enum"] = key.allowed;
      break;
    case KeyType::kInt:
      out["type"] = "integer";
      AddBounds(key, "minimum", "maximum", &out);
      break;
    case KeyType::kBool:
      out["type"] = "boolean";
      break;
    case KeyType::kDuration:
      out["type"] = "string";
      out["pattern"] = kDurationPattern;
      if (note.empty()) note = BoundsNote(key);
      break;
    case KeyType::kSize: {
      Json number = {{"type", "integer"}};
      AddBounds(key, "minimum", "maximum", &number);
      if (!key.min) number["minimum"] = 0;
      out["anyOf"] = Json::array({Json{{"type", "string"}, {"pattern", kSizePattern}}, number});
      if (note.empty()) note = BoundsNote(key);
      break;
    }
    case KeyType::kStringMap:
      out["type"] = "object";
      out["additionalProperties"] = {{"type", "string"}};
      break;
    case KeyType::kList:
      out["type"] = "array";
      out["items"] = ObjectSchema(key.items);
      AddBounds(key, "minItems", "maxItems", &out);
      break;
    case KeyType::kStringList:
      out["type"] = "array";
      out["items"] = {{"type", "string"}};
      AddBounds(key, "minItems", "maxItems", &out);
      break;
    case KeyType::kObjectMap:
      out["type"] = "object";
      out["additionalProperties"] = ObjectSchema(key.items);
      break;
  }
  if (!note.empty()) description += " (" + note + ")";
  if (!key.default_doc.empty()) description += "; default " + key.default_doc;
  out["description"] = description;
  if (!key.required && key.default_doc.empty() && !key.default_value.is_null()) {
    out["default"] = Json::parse(key.default_value.dump());
  }
  return out;
}

// Adds `schema` at the relative JSON pointer `path` ("/batch/linger") inside the object schema
// `*object`, creating the objects on the way; a required key makes its parents required too.
void Place(const std::string& path, Json schema, bool required, Json* object) {
  size_t slash = path.find('/', 1);
  std::string name = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  if (required) {
    Json& names = (*object)["required"];
    if (names.is_null()) names = Json::array();
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  Json& member = (*object)["properties"][name];
  if (slash == std::string::npos) {
    member = std::move(schema);
    return;
  }
  if (member.is_null()) {
    member = {{"type", "object"}, {"additionalProperties", false}, {"properties", Json::object()}};
  }
  Place(path.substr(slash), std::move(schema), required, &member);
}

Json ObjectSchema(const std::vector<KeyInfo>& keys) {
  Json out = {{"type", "object"}, {"additionalProperties", false}, {"properties", Json::object()}};
  for (const KeyInfo& key : keys) Place(key.path, KeySchema(key), key.required, &out);
  return out;
}

}  // namespace

std::string ConfigJsonSchema() {
  std::vector<KeyInfo> keys;
  for (const auto& key : schema::KeysOf<Config>()) keys.push_back(key.info);
  Json out = {
      {"$schema", "https://json-schema.org/draft/2020-12/schema"},
      {"$id", "urn:ferry:config"},
      {"title", "Ferry agent configuration"},
      {"description",
       "Generated by `ferry config-schema` from agent/config/config_schema.cc (run `make "
       "schema`); do not edit. Ferry also accepts // and /* */ comments, which a validator must "
       "strip first. `ferry check-config` is the complete check."},
  };
  out.update(ObjectSchema(keys));
  return out.dump(2) + "\n";
}

}  // namespace ferry::agent

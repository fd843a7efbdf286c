// Reading a config file against the declarations in config_schema.cc.
#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "agent/config/config_schema.h"
#include "platform/file.h"
#include "platform/process.h"

namespace ferry::agent {
namespace schema {
namespace {

using nlohmann::json;

std::string Quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "\"" : ", \"") + name + "\"";
  return out;
}

// A value as the file wrote it, for a message: JSON text, cut to a line's worth (at a
// character's first byte, so the message stays UTF-8).
std::string Written(const json& node) {
  std::string text = node.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() <= 60) return text;
  size_t cut = 57;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

// The type check: fills *value or returns what was expected.
std::string Decode(const KeyInfo& key, const json& node, Value* value) {
  switch (key.type) {
    case KeyType::kString:
      if (!node.is_string()) return "expected a string";
      value->text = node.get<std::string>();
      return "";
    case KeyType::kEnum: {
      bool ok = node.is_string() && std::find(key.allowed.begin(), key.allowed.end(),
                                              node.get<std::string>()) != key.allowed.end();
      if (!ok) return "expected one of " + Quoted(key.allowed) + "; got " + Written(node);
      value->text = node.get<std::string>();
      return "";
    }
    case KeyType::kInt:
      if (!node.is_number_integer()) return "expected an integer";
      if (node.is_number_unsigned() &&
          node.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        value->number = std::numeric_limits<int64_t>::max();  // out of every declared range
      } else {
        value->number = node.get<int64_t>();
      }
      return "";
    case KeyType::kBool:
      if (!node.is_boolean()) return "expected true or false";
      value->flag = node.get<bool>();
      return "";
    case KeyType::kDuration:
      if (node.is_string() && ParseDuration(node.get<std::string>(), &value->number)) return "";
      return "expected a duration like \"30s\": a whole number and one of ms, s, m, h, d";
    case KeyType::kSize:
      if (node.is_number_unsigned()) return value->bytes = node.get<uint64_t>(), "";
      if (node.is_string() && ParseSize(node.get<std::string>(), &value->bytes)) return "";
      return "expected a size like \"64MiB\": a whole number of bytes, optionally with one of "
             "KiB, MiB, GiB, KB, MB, GB";
    case KeyType::kStringMap:
      if (!node.is_object()) return "expected an object of strings";
      for (const auto& [name, member] : node.items()) {
        if (!member.is_string()) return "expected an object of strings; \"" + name + "\" is not";
        value->map[name] = member.get<std::string>();
      }
      return "";
    case KeyType::kList:
      if (!node.is_array()) return "expected a list";
      value->list = &node;
      return "";
    case KeyType::kStringList:
      if (!node.is_array()) return "expected a list of strings";
      for (const auto& member : node) {
        if (!member.is_string()) return "expected a list of strings; " + member.dump() + " is not";
        value->strings.push_back(member.get<std::string>());
      }
      return "";
    case KeyType::kObjectMap:
      if (!node.is_object()) return "expected an object of objects";
      value->list = &node;
      return "";
  }
  return "unsupported key type";
}

// What a value of the wrong type was: "the string \"1883\"", "1883.5", "a list" (issue 14,
// item 10: "/mqtt/port: expected an integer" did not say what it got).
std::string Shown(const json& node) {
  if (node.is_string()) {
    std::string text = node.get<std::string>();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return "the string " + json(text).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (node.is_object()) return "an object";
  if (node.is_array()) return "a list";
  return node.dump();
}

// Expands ${VAR} and ${VAR:-default} (the default also when VAR is empty) into *out; "$${" is
// a literal "${". Returns "" or what is wrong, naming the variable.
std::string ExpandEnv(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      *out += "${", i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      *out += text[i++];
      continue;
    }
    size_t end = text.find('}', i + 2);
    if (end == std::string_view::npos) return "unterminated \"${\" (\"$${\" is a literal \"${\")";
    std::string_view ref = text.substr(i + 2, end - i - 2);
    size_t colon = ref.find(":-");
    std::string name(ref.substr(0, colon));
    bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name) {
      ok = ok &&
           ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (!ok) return "\"${" + std::string(ref) + "}\" does not name an environment variable";
    std::string value = platform::GetEnv(name.c_str());
    if (value.empty() && colon == std::string_view::npos) {
      return "environment variable " + name + " is not set (\"${" + name + "}\"; \"${" + name +
             ":-default}\" gives a default)";
    }
    *out += value.empty() ? std::string(ref.substr(colon + 2)) : value;
    i = end + 1;
  }
  return "";
}

bool HasReference(const json& node) {
  if (node.is_string()) return node.get<std::string>().find("${") != std::string::npos;
  if (!node.is_object()) return false;
  for (const auto& [name, member] : node.items()) {
    if (HasReference(member)) return true;
  }
  return false;
}

// The node with ${...} expanded in its string (or, for an object of strings, its members'
// strings). For integer and boolean keys an expanded string that reads as one is taken as one:
// "port": "${MQTT_PORT:-1883}". Returns "" or what is wrong.
std::string Expand(const KeyInfo& key, const json& node, json* out) {
  std::string text;
  if (node.is_object()) {
    *out = node;
    for (auto& [name, member] : out->items()) {
      if (!member.is_string()) continue;
      if (std::string e = ExpandEnv(member.get<std::string>(), &text); !e.empty()) return e;
      member = text;
    }
    return "";
  }
  if (std::string e = ExpandEnv(node.get<std::string>(), &text); !e.empty()) return e;
  *out = text;
  if (key.type == KeyType::kInt || key.type == KeyType::kBool) {
    json typed = json::parse(text, nullptr, false);
    if (!typed.is_discarded() && (typed.is_number_integer() || typed.is_boolean())) *out = typed;
  }
  return "";
}

std::string RangeText(const KeyInfo& key, int64_t n) {
  if (key.type == KeyType::kDuration) return FormatDuration(n);
  if (key.type == KeyType::kSize) return FormatSize(static_cast<uint64_t>(n));
  return std::to_string(n);
}

// "must be between 1 and 1000000", "must be at least 1KiB", "must be at most 64 characters".
std::string BoundsMessage(const KeyInfo& key) {
  std::string unit = key.type == KeyType::kString ? " characters"
                     : key.type == KeyType::kList || key.type == KeyType::kStringList ? " entries"
                                                                                      : "";
  if (key.min && key.max) {
    return "must be between " + RangeText(key, *key.min) + " and " + RangeText(key, *key.max) +
           unit;
  }
  if (key.type == KeyType::kString && key.min == 1) return "must not be empty";
  if ((key.type == KeyType::kList || key.type == KeyType::kStringList) && key.min == 1) {
    return "must not be empty";
  }
  if (key.min) return "must be at least " + RangeText(key, *key.min) + unit;
  return "must be at most " + RangeText(key, *key.max) + unit;
}

// The measure the bounds apply to; sizes beyond INT64_MAX compare as INT64_MAX.
bool InBounds(const KeyInfo& key, const Value& value) {
  int64_t n = 0;
  switch (key.type) {
    case KeyType::kInt:
    case KeyType::kDuration:
      n = value.number;
      break;
    case KeyType::kSize:
      n = static_cast<int64_t>(
          std::min<uint64_t>(value.bytes, std::numeric_limits<int64_t>::max()));
      break;
    case KeyType::kString:
      n = static_cast<int64_t>(value.text.size());
      break;
    case KeyType::kList:
      n = static_cast<int64_t>(value.list->size());
      break;
    case KeyType::kStringList:
      n = static_cast<int64_t>(value.strings.size());
      break;
    default:
      return true;
  }
  return (!key.min || n >= *key.min) && (!key.max || n <= *key.max);
}

// Checks the members of `object`, found at `relative` inside the declared object at `prefix`.
void WalkMembers(const json& object, const std::string& prefix, const std::string& relative,
                 const std::vector<const KeyInfo*>& keys, Errors* errors) {
  for (const auto& [name, member] : object.items()) {
    std::string child = relative + "/" + EscapePointer(name);
    bool declared = false;
    bool parent = false;
    for (const KeyInfo* key : keys) {
      declared = declared || key->path == child;
      parent = parent || key->path.starts_with(child + "/");
    }
    if (declared) continue;
    if (!parent) {
      errors->push_back(prefix + child + ": unknown key");
    } else if (!member.is_object()) {
      errors->push_back(prefix + child + ": expected an object");
    } else {
      WalkMembers(member, prefix, child, keys, errors);
    }
  }
}

}  // namespace

std::string EscapePointer(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

const char* KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kString:
      return "string";
    case KeyType::kInt:
      return "integer";
    case KeyType::kBool:
      return "boolean";
    case KeyType::kDuration:
      return "duration";
    case KeyType::kSize:
      return "size";
    case KeyType::kEnum:
      return "enum";
    case KeyType::kStringMap:
      return "object of strings";
    case KeyType::kList:
      return "list of objects";
    case KeyType::kStringList:
      return "list of strings";
    case KeyType::kObjectMap:
      return "object of objects";
  }
  return "?";
}

void CheckUnknownKeys(const json& object, const std::string& prefix,
                      const std::vector<const KeyInfo*>& keys, Errors* errors) {
  WalkMembers(object, prefix, "", keys, errors);
}

const json* FindPath(const json& object, const std::string& path) {
  const json* node = &object;
  size_t start = 1;  // paths start with "/"
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    if (!node->is_object()) return nullptr;
    auto it = node->find(path.substr(start, end - start));
    if (it == node->end()) return nullptr;
    node = &*it;
    start = end + 1;
  }
  return node;
}

bool ReadValue(const KeyInfo& key, const json* node, const std::string& path, Value* value,
               Errors* errors) {
  if (node == nullptr) {
    if (key.required) errors->push_back(path + ": required");
    if (key.required || key.default_value.is_null()) return false;
    node = &key.default_value;
  }
  value->path = path;
  json expanded;
  if (key.type != KeyType::kList && key.type != KeyType::kObjectMap && HasReference(*node)) {
    if (std::string e = Expand(key, *node, &expanded); !e.empty()) {
      errors->push_back(path + ": " + e);
      return false;
    }
    node = &expanded;
  }
  std::string problem = Decode(key, *node, value);
  if (problem.rfind("expected ", 0) == 0 && problem.find(';') == std::string::npos) {
    problem += ", got " + Shown(*node);
  }
  if (problem.empty() && !InBounds(key, *value)) problem = BoundsMessage(key);
  if (problem.empty() && key.check != nullptr) problem = key.check(*value);
  if (problem.empty()) return true;
  errors->push_back(path + ": " + problem);
  return false;
}

namespace {

// Starts every line of `message` with `prefix`.
std::string PrefixLines(std::string_view message, std::string_view prefix) {
  std::string out;
  for (size_t start = 0; start <= message.size();) {
    size_t end = std::min(message.find('\n', start), message.size());
    if (start > 0) out += '\n';
    out.append(prefix).append(message.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

}  // namespace schema

platform::Result<Config> ParseConfig(std::string_view text) {
  nlohmann::json doc;
  std::string syntax_error;
  schema::Errors errors;
  if (!schema::ParseJsonText(text, &doc, &syntax_error, &errors)) {
    return platform::Status::InvalidArgument(syntax_error);
  }
  if (!doc.is_object()) {
    return platform::Status::InvalidArgument("top level: expected a JSON object");
  }
  Config config;
  // Left out, these take the defaults of the upstream's kind (schema::FinishConfig).
  config.upstream.batch_max_bytes = 0;
  config.upstream.batch_linger_ms = -1;
  schema::ParseObject(doc, "", &config, &errors);
  schema::FinishConfig(&config, &errors);
  if (errors.empty()) return config;
  std::string message;
  for (const auto& error : errors) message += (message.empty() ? "" : "\n") + error;
  return platform::Status::InvalidArgument(message);
}

platform::Result<Config> LoadConfig(const std::string& path) {
  platform::Result<std::string> text = platform::ReadFile(path);
  if (!text.ok()) return text.status().WithContext(path);
  platform::Result<Config> config = ParseConfig(*text);
  if (config.ok()) return config;
  return platform::Status(config.status().code(),
                          schema::PrefixLines(config.status().message(), path + ": "));
}

}  // namespace ferry::agent

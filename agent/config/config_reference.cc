// The option reference, generated from the declarations in config_schema.cc.
#include <string>
#include <vector>

#include "agent/config/config_schema.h"

namespace ferry::agent {
namespace {

using schema::KeyInfo;
using schema::KeyType;

// Every declared key in order, list elements' keys right after their list as "<list>/*/<key>".
void Flatten(const std::vector<KeyInfo>& keys, const std::string& prefix,
             std::vector<std::pair<std::string, const KeyInfo*>>* out) {
  for (const KeyInfo& key : keys) {
    out->emplace_back(prefix + key.path, &key);
    if (key.type == KeyType::kList || key.type == KeyType::kObjectMap)
      Flatten(key.items, prefix + key.path + "/*", out);
  }
}

std::vector<std::pair<std::string, const KeyInfo*>> AllKeys() {
  static const auto* infos = [] {
    auto* v = new std::vector<KeyInfo>;
    for (const auto& key : schema::KeysOf<Config>()) v->push_back(key.info);
    return v;
  }();
  std::vector<std::pair<std::string, const KeyInfo*>> out;
  Flatten(*infos, "", &out);
  return out;
}

std::string Code(const std::string& text) { return "`" + text + "`"; }

std::string BoundText(const KeyInfo& key, int64_t n) {
  if (key.type == KeyType::kDuration) return FormatDuration(n);
  if (key.type == KeyType::kSize) return FormatSize(static_cast<uint64_t>(n));
  return std::to_string(n);
}

std::string DefaultText(const KeyInfo& key) {
  if (key.required) return "required";
  if (!key.default_doc.empty()) return Code(key.default_doc);
  const nlohmann::json& d = key.default_value;
  if (d.is_null() || (d.is_structured() && d.empty())) return "none";
  if (d.is_string())
    return d.get<std::string>().empty() ? Code("\"\"") : Code(d.get<std::string>());
  return Code(d.dump());
}

std::string AllowedText(const KeyInfo& key) {
  if (!key.allowed_doc.empty()) return key.allowed_doc;
  if (key.type == KeyType::kEnum) {
    std::string out;
    for (const auto& name : key.allowed) out += (out.empty() ? "" : ", ") + Code(name);
    return out;
  }
  std::string unit = key.type == KeyType::kString ? " characters"
                     : key.type == KeyType::kList || key.type == KeyType::kStringList ? " entries"
                                                                                      : "";
  if (key.min && key.max) {
    return BoundText(key, *key.min) + " to " + BoundText(key, *key.max) + unit;
  }
  if (key.min == 1 && (key.type == KeyType::kString || key.type == KeyType::kList ||
                       key.type == KeyType::kStringList)) {
    return "not empty";
  }
  if (key.min) return "at least " + BoundText(key, *key.min) + unit;
  if (key.max) return "at most " + BoundText(key, *key.max) + unit;
  return "";
}

std::string Cell(std::string text) {
  for (size_t i = text.find('|'); i != std::string::npos; i = text.find('|', i + 2)) {
    text.insert(i, "\\");
  }
  return text;
}

}  // namespace

std::vector<std::string> ConfigKeyPaths() {
  std::vector<std::string> out;
  for (const auto& [path, key] : AllKeys()) out.push_back(path);
  return out;
}

std::string ConfigReferenceMarkdown() {
  std::string out =
      "| Key | Type | Default | Allowed | Description |\n"
      "|---|---|---|---|---|\n";
  for (const auto& [path, key] : AllKeys()) {
    out += "| " + Code(path) + " | " + schema::KeyTypeName(key->type) + " | " +
           Cell(DefaultText(*key)) + " | " + Cell(AllowedText(*key)) + " | " + Cell(key->help) +
           " |\n";
  }
  return out;
}

}  // namespace ferry::agent

#include "agent/normalize/pairs.h"

#include <algorithm>
#include <cctype>

#include "agent/normalize/payload.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

bool StartsWith(const std::string& lower, std::string_view prefix) {
  return lower.compare(0, prefix.size(), prefix) == 0;
}

json* FirstPresent(const std::vector<FieldPath>& paths, json& element) {
  for (const FieldPath& p : paths) {
    if (json* v = p.Find(element)) return v;
  }
  return nullptr;
}

}  // namespace

std::optional<CastType> CastOfTypeName(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (StartsWith(lower, "int") || StartsWith(lower, "uint") || lower == "long" ||
      lower == "short") {
    return CastType::kInt;
  }
  if (StartsWith(lower, "float") || lower == "double" || lower == "decimal" || lower == "number") {
    return CastType::kFloat;
  }
  if (StartsWith(lower, "bool")) return CastType::kBool;
  if (lower == "string" || lower == "str" || lower == "text") return CastType::kString;
  return std::nullopt;
}

std::string CheckPairs(const PairsSpec& spec) {
  if (spec.path.empty()) return "";
  if (std::string e = CheckPathText(spec.path); !e.empty()) return "path: " + e;
  if (ParsePathList(spec.name).empty()) return "name: must name at least one path";
  if (ParsePathList(spec.value).empty()) return "value: must name at least one path";
  for (const std::string* list : {&spec.name, &spec.value}) {
    for (const FieldPath& p : ParsePathList(*list)) {
      if (std::string e = CheckPathText(p.text()); !e.empty()) {
        return (list == &spec.name ? "name: " : "value: ") + e;
      }
    }
  }
  if (!spec.type.empty()) {
    if (std::string e = CheckPathText(spec.type); !e.empty()) return "type: " + e;
  }
  return "";
}

Pairs::Pairs(const PairsSpec& spec) {
  if (spec.path.empty() || !CheckPairs(spec).empty()) return;
  path_ = FieldPath(spec.path);
  if (size_t dot = spec.path.rfind('.'); dot != std::string::npos) {
    parent_ = FieldPath(std::string_view(spec.path).substr(0, dot));
  }
  names_ = ParsePathList(spec.name);
  values_ = ParsePathList(spec.value);
  type_ = FieldPath(spec.type);
  value_type_ = spec.value_type;
}

json Pairs::Typed(const json& element, json&& value) const {
  if (!type_.empty()) {
    const json* type = type_.Find(element);
    if (type != nullptr && type->is_string()) {
      if (std::optional<CastType> cast = CastOfTypeName(type->get_ref<const std::string&>())) {
        return CastValue(value, *cast);
      }
    }
  }
  switch (value_type_) {
    case PairsValueType::kAuto:
      return std::move(value);
    case PairsValueType::kText:
      return value.is_string() ? ParsePlainValue(value.get_ref<const std::string&>())
                               : std::move(value);
    case PairsValueType::kInt:
      return CastValue(value, CastType::kInt);
    case PairsValueType::kFloat:
      return CastValue(value, CastType::kFloat);
    case PairsValueType::kBool:
      return CastValue(value, CastType::kBool);
    case PairsValueType::kString:
      return CastValue(value, CastType::kString);
  }
  return std::move(value);
}

void Pairs::Apply(json* data) const {
  if (path_.empty()) return;
  json* array = path_.Find(*data);
  if (array == nullptr || !array->is_array()) return;
  json items = std::move(*array);
  path_.Erase(*data);
  json* holder = parent_.empty() ? data : parent_.Find(*data);  // where the fields go
  json unnamed = json::array();
  std::string name;
  for (json& item : items) {
    const json* n = item.is_object() ? FirstPresent(names_, item) : nullptr;
    bool named = n != nullptr && (n->is_string() || n->is_number());
    if (named) name = n->is_string() ? n->get<std::string>() : n->dump();
    json* v = named ? FirstPresent(values_, item) : nullptr;
    if (v == nullptr || name.empty() || holder == nullptr || !holder->is_object()) {
      unnamed.push_back(std::move(item));
      continue;
    }
    (*holder)[name] = Typed(item, std::move(*v));
  }
  if (!unnamed.empty()) path_.Set(*data, std::move(unnamed));
}

}  // namespace ferry::agent

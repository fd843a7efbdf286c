#include "agent/normalize/explode.h"

namespace ferry::agent {

using nlohmann::json;

std::string CheckExplode(const ExplodeSpec& spec) {
  if (!spec.path.empty()) {
    if (std::string e = CheckPathText(spec.path); !e.empty()) return "path " + e;
  } else if (!spec.carry.empty()) {
    return "carry needs a path to explode";
  }
  for (const auto& [field, from] : spec.carry) {
    if (std::string e = CheckPathText(field); !e.empty()) return "carry \"" + field + "\": " + e;
    if (std::string e = CheckPathText(from); !e.empty()) return "carry \"" + field + "\": " + e;
  }
  return "";
}

Exploder::Exploder(const ExplodeSpec& spec) : path_(spec.path) {
  if (!CheckExplode(spec).empty()) {
    path_ = FieldPath();
    return;
  }
  for (const auto& [field, from] : spec.carry)
    carry_.emplace_back(FieldPath(field), FieldPath(from));
}

bool Exploder::Split(json* payload, std::string_view value_field, std::vector<json>* elements,
                     std::string* reason) const {
  elements->clear();
  json* array = path_.Find(*payload);
  if (array == nullptr || !array->is_array()) {
    *reason = "validation failed: explode \"" + path_.text() + "\": " +
              (array == nullptr ? std::string("missing")
                                : std::string("not an array but ") + array->type_name());
    return false;
  }
  json items = std::move(*array);
  *array = nullptr;  // so that a carried path into the array finds nothing, not moved-from data
  elements->reserve(items.size());
  for (json& item : items) {
    if (!item.is_object()) {
      json wrapped = json::object();
      wrapped[std::string(value_field)] = std::move(item);
      item = std::move(wrapped);
    }
    for (const auto& [field, from] : carry_) {
      if (field.Find(item) != nullptr) continue;
      if (const json* v = from.Find(*payload)) field.Set(item, json(*v));
    }
    elements->push_back(std::move(item));
  }
  return true;
}

}  // namespace ferry::agent

// Name/value pairs to fields: a route's `pairs` turns an array of readings such as
//   {"readings": [{"name": "temperature", "value": "21.5", "type": "Float64"}, ...]}
// into fields of the object that held the array: {"temperature": 21.5, ...}.
//
//   "pairs": {"path": "readings", "name": "name, resourceName", "value": "value",
//             "type": "valueType", "value_type": "auto"}
//
// `name` and `value` are comma-separated paths inside each element; the first present wins.
// A pair's value is typed by, in this order: the element's `type` field when it names a type
// (case-insensitive: int*, uint*, long, short -> int; float*, double, decimal, number -> float;
// bool* -> bool; string, str, text -> string), else `value_type` (auto: as it is; text: a
// string read by the plain-text rule, "21.5" -> 21.5, "nan" -> null; int, float, bool, string:
// cast, what does not convert becomes null). A pair's field replaces a field of the same name.
// Elements without a name (not an object, or no string or number at any `name` path) or
// without a value (no `value` path present: Neuron's {"name":"tag1","error":2014}) stay in
// the array, which is removed once it is empty: nothing is lost silently.
// Compiled once per route; Apply is const and safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/field_ops.h"
#include "agent/normalize/field_path.h"

namespace ferry::agent {

struct PairsSpec {
  std::string path;  // "": no pairs
  std::string name = "name";
  std::string value = "value";
  std::string type;  // "": no per-element type
  PairsValueType value_type = PairsValueType::kAuto;
};

// "" when the spec compiles, else what is wrong, naming the key ("name: ...").
std::string CheckPairs(const PairsSpec& spec);

class Pairs {
 public:
  Pairs() = default;  // does nothing
  explicit Pairs(const PairsSpec& spec);

  bool enabled() const { return !path_.empty(); }
  // Applies the pairs to `data`; a path that holds no array is left alone.
  void Apply(nlohmann::json* data) const;

 private:
  nlohmann::json Typed(const nlohmann::json& element, nlohmann::json&& value) const;

  FieldPath path_;
  FieldPath parent_;  // the object holding the array; empty: the data itself
  std::vector<FieldPath> names_;
  std::vector<FieldPath> values_;
  FieldPath type_;
  PairsValueType value_type_ = PairsValueType::kAuto;
};

// The cast a type name in a pair means ("Float32" -> kFloat), nullopt for an unknown name.
std::optional<CastType> CastOfTypeName(std::string_view name);

}  // namespace ferry::agent

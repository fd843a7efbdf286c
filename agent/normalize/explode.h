// One message, many records: a route's `explode` splits the array at a payload path into one
// payload per element, and copies chosen values of the enclosing message into each:
//
//   "explode": {"path": "readings", "carry": {"gateway": "gw_id", "batch_ts": "ts"}}
//
// An element that is an object is that element's payload; any other element becomes
// {value_field: element}. Each `carry` entry copies the enclosing payload's value at the
// path (the map's value) to the element's field (the key, a path too) unless the element has
// that field already: the element's own value wins. Absent enclosing values are not copied.
// The rest of the route (device, time, data_field, pairs, field operations, labels) then
// runs on each element's payload as it would on a whole message's.
// Compiled once per route; Split is const and safe to call concurrently.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/field_path.h"

namespace ferry::agent {

struct ExplodeSpec {
  std::string path;                          // "" : the route does not explode
  std::map<std::string, std::string> carry;  // element field -> enclosing payload path
};

// "" when the spec compiles, else what is wrong ("carry \"x\": must be a dotted path ...").
std::string CheckExplode(const ExplodeSpec& spec);

class Exploder {
 public:
  Exploder() = default;  // does not explode
  explicit Exploder(const ExplodeSpec& spec);

  bool enabled() const { return !path_.empty(); }
  const FieldPath& path() const { return path_; }

  // Moves the elements of the array at path() out of `payload` into `*elements` (cleared
  // first), each an object as described above. An empty array gives no element. False, with
  // `*reason` = "validation failed: explode \"<path>\": missing" (or ": not an array but
  // object", the JSON type), when the path holds no array.
  bool Split(nlohmann::json* payload, std::string_view value_field,
             std::vector<nlohmann::json>* elements, std::string* reason) const;

 private:
  FieldPath path_;
  std::vector<std::pair<FieldPath, FieldPath>> carry_;  // element field, enclosing path
};

}  // namespace ferry::agent

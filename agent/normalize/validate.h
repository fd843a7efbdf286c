// Validation of a route: limits on the payload and fields that must be present with a type
// and range. A violation dead-letters the message with a reason naming the rule:
//   "payload too large: 5000 bytes, route max_payload is 4096"
//   "JSON nested deeper than 8 levels"                        (max_depth; see payload.h)
//   "validation failed: max_fields: more than 100 fields"
//   "validation failed: require \"temperature\": missing"
//   "validation failed: require \"temperature\": null"
//   "validation failed: require \"temperature\": expected a number, got a string"
//   "validation failed: require \"temperature\": 130 is above the maximum 125"
// Compiled once per route; const methods are safe to call concurrently. Never throws except
// std::bad_alloc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/field_path.h"
#include "agent/normalize/payload.h"

namespace ferry::agent {

// One required field: "<type>[ <min>..<max>]", either bound may be left out:
//   "any"  "string"  "bool"  "object"  "array"  "number"  "integer"
//   "number -40..125"  "integer 0.."  "number ..100"
// A required field must be present and not null; number and integer take a range (inclusive).
struct Requirement {
  enum class Type { kAny, kNumber, kInteger, kString, kBool, kObject, kArray };
  FieldPath path;
  Type type = Type::kAny;
  std::optional<double> min, max;
};

// The requirement for `path`, or nullopt with *error saying what is wrong with `spec`.
std::optional<Requirement> ParseRequirement(std::string_view path, std::string_view spec,
                                            std::string* error);

struct ValidationSpec {
  std::map<std::string, std::string> require;  // payload path -> requirement
  uint64_t max_payload = 0;                    // bytes; 0: no limit of the route's own
  int max_depth = 0;                           // 0: kMaxJsonDepth
  uint64_t max_fields = 0;                     // 0: no limit
};

// "" when the requirements parse, else what is wrong ("\"temperature\": ...").
std::string CheckValidation(const ValidationSpec& spec);

class Validator {
 public:
  Validator() = default;  // accepts everything
  // Requirements that do not parse (see CheckValidation) are left out.
  explicit Validator(const ValidationSpec& spec);

  int max_depth() const { return max_depth_; }

  // Before decoding: the payload's size against max_payload.
  bool CheckSize(size_t payload_bytes, std::string* reason) const;
  // After decoding: field count and requirements, on the whole decoded payload.
  bool CheckFields(const nlohmann::json& payload, std::string* reason) const;

 private:
  std::vector<Requirement> require_;
  uint64_t max_payload_ = 0;
  int max_depth_ = kMaxJsonDepth;
  uint64_t max_fields_ = 0;
};

}  // namespace ferry::agent

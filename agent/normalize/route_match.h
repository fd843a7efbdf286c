// Routes chosen by payload content: a route's `match` (and `match_pattern`) conditions on
// values of the decoded payload, all of which must hold for the route to apply.
//
//   "match": {"model": "Acurite-Tower, Acurite-986", "type": "TPMS"}
//   "match_pattern": {"model": "^Fineoffset-WH(2|5)$"}
//
// A value is compared as text: a string as is, a number as JSON writes it ("1", "21.5"), a
// bool as "true"/"false" (ValueAsText). `match` lists the accepted values, comma-separated
// (spaces around each ignored; one value is equality). `match_pattern` is an RE2 regular
// expression that must match somewhere in the text (anchor it with ^ and $ for the whole).
// A path that is absent, null, an object or an array matches nothing.
// Compiled once per route; Matches is const and safe to call concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/field_path.h"

namespace re2 {
class RE2;
}

namespace ferry::agent {

// "" when every pattern compiles, else what is wrong ("\"model\": missing ): ..."). For the
// config's checks.
std::string CheckMatchPatterns(const std::map<std::string, std::string>& patterns);
// "" when every path is usable, else what is wrong.
std::string CheckMatchValues(const std::map<std::string, std::string>& values);

class RouteMatch {
 public:
  RouteMatch() = default;  // no condition: matches every payload
  // Entries that do not compile are left out (the config's checks refuse them first).
  RouteMatch(const std::map<std::string, std::string>& values,
             const std::map<std::string, std::string>& patterns);

  bool empty() const { return values_.empty() && patterns_.empty(); }
  // True if every condition holds; else false and `*why` (if not null) says which did not:
  // "match \"model\": \"Acurite-986\" is not one of Acurite-Tower", "match \"model\": missing",
  // "match_pattern \"model\": \"Acurite-986\" does not match ^Fineoffset".
  bool Matches(const nlohmann::json& payload, std::string* why) const;

 private:
  struct OneOf {
    FieldPath path;
    std::vector<std::string> accepted;
    std::string text;  // as written, for `why`
  };
  struct Pattern {
    FieldPath path;
    std::shared_ptr<const re2::RE2> re;
  };
  std::vector<OneOf> values_;
  std::vector<Pattern> patterns_;
};

}  // namespace ferry::agent

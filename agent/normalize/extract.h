// Text extraction with named groups (route key `extract`): an RE2 pattern applied to the
// string at a payload path; each named group that took part in the match becomes a field of
// the object holding that path, its text read by the plain-text rule ("21.5" -> 21.5,
// "nan" -> null, "ON" stays "ON"):
//
//   "extract": {"value": "^T=(?P<temp_c>-?[0-9.]+)C H=(?P<humidity>[0-9]+)%$"}
//
// on the plain-text payload "T=21.5C H=40%" gives {"value": "T=21.5C H=40%", "temp_c": 21.5,
// "humidity": 40}. RE2 runs in time linear in the text: no message can make it backtrack.
// A path that is absent or holds no string is left alone; a string the pattern does not
// match dead-letters the message ("validation failed: extract \"value\": no match").
// Compiled once per route; Apply is const and safe to call concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/field_path.h"

namespace re2 {
class RE2;
}

namespace ferry::agent {

// "" when every entry compiles and has at least one named group, else what is wrong.
std::string CheckExtract(const std::map<std::string, std::string>& spec);

class Extractor {
 public:
  Extractor() = default;  // extracts nothing
  explicit Extractor(const std::map<std::string, std::string>& spec);

  bool empty() const { return entries_.empty(); }
  // Applies every entry to `payload`, in path order; false with `*reason` on a failed match.
  bool Apply(nlohmann::json* payload, std::string* reason) const;

 private:
  struct Entry {
    FieldPath path;
    FieldPath parent;  // the object the groups go to; empty: the payload itself
    std::shared_ptr<const re2::RE2> re;
    std::vector<std::pair<int, std::string>> groups;  // group index, field name
  };
  std::vector<Entry> entries_;
};

}  // namespace ferry::agent

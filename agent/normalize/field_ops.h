// Field operations of a route, applied to a record's data in this order:
//   1. null_values  listed sentinel values become null ("327.67" = no probe)
//   2. keep         only the listed paths remain (with the objects that lead to them)
//   3. drop         the listed paths are removed
//   4. rename       values move to new paths ("ENERGY.Total": "energy_total")
//   5. cast         values become int, float, bool or string
//   6. scale/offset numbers become number * scale + offset (units: Watt-minutes to Wh);
//                   with scale_first, before rename and cast (paths then name the fields
//                   as they came), so that a conversion can merge differently named fields
//   7. flatten      nested objects become top-level keys joined by a separator
// Each step's paths name the data as the previous steps left it. Compiled once per route;
// Apply is const and safe to call concurrently. Never throws except std::bad_alloc.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/route_options.h"
#include "agent/normalize/field_path.h"

namespace ferry::agent {

// "int", "float", "bool", "string"; nullopt for anything else.
std::optional<CastType> ParseCastType(std::string_view name);

// `v` as `type`, or null when it has no such reading (a missing reading is never 0):
//   int     numbers rounded to the nearest integer (half away from zero), numeric strings
//           ("100.00" -> 100, " 7 " -> 7), true/false -> 1/0
//   float   numbers, numeric strings ("37.00" -> 37.0, "1e3" -> 1000.0), true/false -> 1.0/0.0
//   bool    true/false; strings true/false, on/off, yes/no, 1/0 in any case ("ON", "False");
//           the numbers 0 and 1
//   string  strings as they are; numbers and bools as JSON writes them ("21.5", "true")
// null, objects, arrays, NaN or out-of-range numbers, and other strings give null.
nlohmann::json CastValue(const nlohmann::json& v, CastType type);

// A number written as a decimal ("0.001", "-273.15", "1e-3") or a fraction ("1/60");
// nullopt for anything else, a zero denominator, or a result that is not finite.
std::optional<double> ParseFactor(std::string_view text);
// The same as numerator and denominator (1 for a decimal), so that scaling by "1/60" divides.
std::optional<std::pair<double, double>> ParseRatio(std::string_view text);

// The route keys, as the config holds them (see config/README.md).
struct FieldOpsSpec {
  std::map<std::string, std::string> null_values;  // path ("*" = every value) -> "v1,v2"
  std::string keep;                                // comma-separated paths
  std::string drop;                                // comma-separated paths
  std::map<std::string, std::string> rename;       // path -> new path
  std::map<std::string, std::string> cast;         // path -> int | float | bool | string
  std::map<std::string, std::string> scale;        // path -> factor
  std::map<std::string, std::string> offset;       // path -> addend
  std::string flatten;                             // separator; "" keeps the nesting
  bool scale_first = false;  // scale/offset before rename and cast (steps 4-6 become 6, 4, 5)
};

// "" when the spec compiles, else what is wrong, naming the entry but not the key
// ("\"battery\": \"double\" is not one of int, float, bool, string"): the config's
// checks call it with one key filled in.
std::string CheckFieldOps(const FieldOpsSpec& spec);

class FieldOps {
 public:
  FieldOps() = default;  // does nothing
  // Entries that do not compile (see CheckFieldOps) are left out.
  explicit FieldOps(const FieldOpsSpec& spec);

  bool empty() const { return empty_; }
  // Applies steps 1-7 to `data`, an object. Paths that are absent are skipped.
  void Apply(nlohmann::json* data) const;

 private:
  struct Sentinels {
    std::vector<std::string> texts;  // compared with string values
    std::vector<double> numbers;     // compared with number values
  };
  struct Linear {
    FieldPath path;
    double scale_num = 1;  // scale = scale_num / scale_den ("1/60")
    double scale_den = 1;
    double offset = 0;
  };

  void ApplyNulls(nlohmann::json* data) const;
  void ApplyKeep(nlohmann::json* data) const;
  void ApplyRename(nlohmann::json* data) const;
  void ApplyCast(nlohmann::json* data) const;
  void ApplyScale(nlohmann::json* data) const;

  bool empty_ = true;
  std::vector<std::pair<FieldPath, Sentinels>> nulls_;
  std::optional<Sentinels> nulls_everywhere_;
  std::vector<FieldPath> keep_;
  std::vector<FieldPath> drop_;
  std::vector<std::pair<FieldPath, FieldPath>> rename_;
  std::vector<std::pair<FieldPath, CastType>> cast_;
  std::vector<Linear> linear_;
  std::string flatten_;
  bool scale_first_ = false;
};

// Replaces nested objects by their members, the keys joined with `separator`:
// {"BME280":{"Temperature":21.4}} -> {"BME280_Temperature":21.4}. Arrays are values and stay
// as they are; an empty object stays as a value. Should a flattened key equal a key that was
// already there ({"a":{"b":2},"a_b":1}), the flattened value wins.
void Flatten(nlohmann::json* data, std::string_view separator);

}  // namespace ferry::agent

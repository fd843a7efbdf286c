// A dotted path into a JSON value ("params.ts", "end_device_ids.device_id", "metrics.0.name"),
// split once so that lookups do no parsing. Each step names a member of an object; a step of
// digits also indexes an array ("rx_metadata.0.time"). Keys are taken literally: a key that
// itself contains '.' cannot be named. Immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry::agent {

class FieldPath {
 public:
  FieldPath() = default;                        // names nothing
  explicit FieldPath(std::string_view dotted);  // "" names nothing

  bool empty() const { return steps_.empty(); }
  const std::string& text() const { return text_; }

  // The value at the path, or nullptr if the path is empty or a step is missing. The pointer
  // is into `root` and lives as long as it does, unmodified.
  const nlohmann::json* Find(const nlohmann::json& root) const;
  nlohmann::json* Find(nlohmann::json& root) const;

  // Removes the value at the path from its object or array; false if there was none.
  bool Erase(nlohmann::json& root) const;

  // Moves `value` to the path, creating objects for missing steps (and replacing a null on
  // the way by an object). False, with `root` and `value` unchanged, when a step on the way
  // is a scalar, an array indexed by a non-number or out of range, or the path is empty.
  bool Set(nlohmann::json& root, nlohmann::json&& value) const;

 private:
  struct Step {
    std::string key;
    int64_t index = -1;  // the key as an array index, -1 if it is not all digits
  };
  nlohmann::json* Parent(nlohmann::json& root, bool create) const;

  std::string text_;
  std::vector<Step> steps_;
};

// Splits "Epoch, Time ,StatusSNS.Time" at commas into paths, spaces around each ignored,
// empty items dropped.
std::vector<FieldPath> ParsePathList(std::string_view comma_separated);

// "" if `dotted` is a usable path (not empty, no empty step), else "must be a dotted path
// like ... , not \"a..b\"". For the config's checks.
std::string CheckPathText(std::string_view dotted);

}  // namespace ferry::agent

// A dotted path into a JSON object ("params.ts", "end_device_ids.device_id"), split once so that
// lookups do no parsing. Keys are taken literally: a key that itself contains '.' cannot be named.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry::agent {

class FieldPath {
 public:
  FieldPath() = default;                        // names nothing
  explicit FieldPath(std::string_view dotted);  // "" names nothing

  bool empty() const { return keys_.empty(); }

  // The value at the path, or nullptr if the path is empty or any step is missing or not an
  // object. The pointer is into `root` and lives as long as it does, unmodified.
  const nlohmann::json* Find(const nlohmann::json& root) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace ferry::agent

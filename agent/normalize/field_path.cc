#include "agent/normalize/field_path.h"

namespace ferry::agent {

FieldPath::FieldPath(std::string_view dotted) {
  if (dotted.empty()) return;
  size_t pos = 0;
  while (true) {
    size_t end = dotted.find('.', pos);
    if (end == std::string_view::npos) {
      keys_.emplace_back(dotted.substr(pos));
      return;
    }
    keys_.emplace_back(dotted.substr(pos, end - pos));
    pos = end + 1;
  }
}

const nlohmann::json* FieldPath::Find(const nlohmann::json& root) const {
  if (keys_.empty()) return nullptr;
  const nlohmann::json* cur = &root;
  for (const std::string& key : keys_) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

}  // namespace ferry::agent

#include "agent/normalize/field_path.h"

#include <algorithm>

namespace ferry::agent {
namespace {

using nlohmann::json;

int64_t AsIndex(std::string_view key) {
  if (key.empty() || key.size() > 9) return -1;
  int64_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

FieldPath::FieldPath(std::string_view dotted) : text_(dotted) {
  if (dotted.empty()) return;
  size_t pos = 0;
  while (true) {
    size_t end = std::min(dotted.find('.', pos), dotted.size());
    std::string_view key = dotted.substr(pos, end - pos);
    steps_.push_back({std::string(key), AsIndex(key)});
    if (end == dotted.size()) return;
    pos = end + 1;
  }
}

const json* FieldPath::Find(const json& root) const {
  if (steps_.empty()) return nullptr;
  const json* cur = &root;
  for (const Step& step : steps_) {
    if (cur->is_object()) {
      auto it = cur->find(step.key);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array() && step.index >= 0 &&
               static_cast<size_t>(step.index) < cur->size()) {
      cur = &(*cur)[static_cast<size_t>(step.index)];
    } else {
      return nullptr;
    }
  }
  return cur;
}

json* FieldPath::Find(json& root) const {
  return const_cast<json*>(Find(static_cast<const json&>(root)));
}

// The container holding the last step; with `create`, missing objects are made on the way.
json* FieldPath::Parent(json& root, bool create) const {
  json* cur = &root;
  for (size_t i = 0; i + 1 < steps_.size(); ++i) {
    const Step& step = steps_[i];
    if (create && cur->is_null()) *cur = json::object();
    if (cur->is_object()) {
      auto it = cur->find(step.key);
      if (it == cur->end()) {
        if (!create) return nullptr;
        cur = &(*cur)[step.key];
      } else {
        cur = &*it;
      }
    } else if (cur->is_array() && step.index >= 0 &&
               static_cast<size_t>(step.index) < cur->size()) {
      cur = &(*cur)[static_cast<size_t>(step.index)];
    } else {
      return nullptr;
    }
  }
  if (create && cur->is_null()) *cur = json::object();
  return cur;
}

bool FieldPath::Erase(json& root) const {
  if (steps_.empty()) return false;
  json* parent = Parent(root, false);
  if (parent == nullptr) return false;
  const Step& last = steps_.back();
  if (parent->is_object()) return parent->erase(last.key) > 0;
  if (parent->is_array() && last.index >= 0 && static_cast<size_t>(last.index) < parent->size()) {
    parent->erase(static_cast<size_t>(last.index));
    return true;
  }
  return false;
}

bool FieldPath::Set(json& root, json&& value) const {
  if (steps_.empty()) return false;
  // Check first, so that a failing Set leaves no half-made objects behind.
  const json* cur = &root;
  for (size_t i = 0; i + 1 < steps_.size() && cur != nullptr; ++i) {
    if (cur->is_null()) break;
    if (cur->is_object()) {
      auto it = cur->find(steps_[i].key);
      if (it == cur->end()) break;
      cur = &*it;
    } else if (!cur->is_array() || steps_[i].index < 0 ||
               static_cast<size_t>(steps_[i].index) >= cur->size()) {
      return false;
    } else {
      cur = &(*cur)[static_cast<size_t>(steps_[i].index)];
    }
  }
  json* parent = Parent(root, true);
  if (parent == nullptr) return false;
  const Step& last = steps_.back();
  if (parent->is_object()) {
    (*parent)[last.key] = std::move(value);
    return true;
  }
  if (parent->is_array() && last.index >= 0 && static_cast<size_t>(last.index) < parent->size()) {
    (*parent)[static_cast<size_t>(last.index)] = std::move(value);
    return true;
  }
  return false;
}

std::vector<FieldPath> ParsePathList(std::string_view list) {
  std::vector<FieldPath> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = std::min(list.find(',', pos), list.size());
    std::string_view item = TrimSpaces(list.substr(pos, end - pos));
    if (!item.empty()) out.emplace_back(item);
    pos = end + 1;
  }
  return out;
}

std::string CheckPathText(std::string_view t) {
  if (t.empty() || t.front() == '.' || t.back() == '.' || t.find("..") != std::string_view::npos) {
    return "must be a dotted path like \"params.ts\" without empty steps, not \"" + std::string(t) +
           "\"";
  }
  return "";
}

}  // namespace ferry::agent

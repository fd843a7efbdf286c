#include "agent/normalize/value_template.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

// The inside of one placeholder: ".path|default" or "name".
struct Placeholder {
  std::string_view name;  // a capture name, or the path without its '.'
  std::string_view fallback;
  bool is_path = false;
  bool has_default = false;
};

Placeholder SplitPlaceholder(std::string_view inner) {
  Placeholder p;
  p.is_path = !inner.empty() && inner.front() == '.';
  if (!p.is_path) {
    p.name = inner;
    return p;
  }
  inner.remove_prefix(1);
  size_t bar = inner.find('|');
  p.name = inner.substr(0, bar);
  if (bar != std::string_view::npos) {
    p.has_default = true;
    p.fallback = inner.substr(bar + 1);
  }
  return p;
}

}  // namespace

ValueTemplate::Piece ValueTemplate::Literal(std::string text) {
  Piece p;
  p.literal = std::move(text);
  return p;
}

bool ValueAsText(const json* v, std::string* out) {
  if (v == nullptr) return false;
  if (v->is_string()) {
    *out = v->get_ref<const std::string&>();
  } else if (v->is_number()) {
    *out = v->dump();
  } else if (v->is_boolean()) {
    *out = v->get<bool>() ? "true" : "false";
  } else {
    return false;
  }
  return true;
}

ValueTemplate::ValueTemplate(std::string_view text, const TopicTemplate& topic) : text_(text) {
  std::string literal;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    size_t close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) {
      literal.append(text.substr(pos));
      break;
    }
    Placeholder p = SplitPlaceholder(text.substr(open + 1, close - open - 1));
    int index = p.is_path ? -1 : topic.CaptureIndex(p.name);
    bool literal_braces = !p.is_path && index < 0;  // not a capture: stays as written
    literal.append(text.substr(pos, (literal_braces ? close + 1 : open) - pos));
    pos = close + 1;
    if (literal_braces) continue;
    if (!literal.empty()) pieces_.push_back(Literal(std::move(literal)));
    literal.clear();
    Piece piece;
    if (p.is_path) {
      piece.path = FieldPath(p.name);
      piece.has_default = p.has_default;
      piece.literal = std::string(p.fallback);
      uses_payload_ = true;
    } else {
      piece.capture = index;
    }
    pieces_.push_back(std::move(piece));
    is_static_ = false;
  }
  if (!literal.empty()) pieces_.push_back(Literal(std::move(literal)));
}

std::optional<std::string> ValueTemplate::Render(const std::vector<std::string_view>& captures,
                                                 const json& payload) const {
  if (is_static_) return text_;
  std::string out;
  std::string part;
  for (const Piece& p : pieces_) {
    if (p.capture >= 0) {
      if (static_cast<size_t>(p.capture) < captures.size()) out += captures[p.capture];
    } else if (p.path.empty()) {
      out += p.literal;
    } else if (ValueAsText(p.path.Find(payload), &part)) {
      out += part;
    } else if (p.has_default) {
      out += p.literal;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::vector<ValueTemplate> ParseTemplateList(std::string_view list, const TopicTemplate& topic) {
  std::vector<ValueTemplate> out;
  for (const FieldPath& item : ParsePathList(list)) out.emplace_back(item.text(), topic);
  return out;
}

std::string ValueTemplate::Render(const std::vector<std::string_view>& captures) const {
  if (uses_payload_) return text_;
  return Render(captures, nlohmann::json()).value_or(text_);
}

std::string CheckValueTemplate(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string_view::npos) return "";
    size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      return "'{' at byte " + std::to_string(open) + " is not closed by '}'";
    }
    std::string_view inner = text.substr(open + 1, close - open - 1);
    if (inner.empty()) return "empty placeholder \"{}\"";
    Placeholder p = SplitPlaceholder(inner);
    if (p.is_path) {
      if (std::string e = CheckPathText(p.name); !e.empty()) {
        return "placeholder \"{" + std::string(inner) + "}\": payload path " + e;
      }
    }
    pos = close + 1;
  }
  return "";
}

}  // namespace ferry::agent

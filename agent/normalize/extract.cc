#include "agent/normalize/extract.h"

#include <re2/re2.h>

#include "agent/normalize/payload.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

std::unique_ptr<re2::RE2> Compile(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);
  return std::make_unique<re2::RE2>(pattern, options);
}

}  // namespace

std::string CheckExtract(const std::map<std::string, std::string>& spec) {
  for (const auto& [path, pattern] : spec) {
    std::string at = "\"" + path + "\": ";
    if (std::string e = CheckPathText(path); !e.empty()) return at + "path " + e;
    std::unique_ptr<re2::RE2> re = Compile(pattern);
    if (!re->ok()) return at + "not an RE2 pattern: " + re->error();
    if (re->NamedCapturingGroups().empty()) {
      return at + "the pattern has no named group like (?P<temp_c>[0-9.]+)";
    }
  }
  return "";
}

Extractor::Extractor(const std::map<std::string, std::string>& spec) {
  if (!CheckExtract(spec).empty()) return;
  for (const auto& [path, pattern] : spec) {
    Entry e;
    e.path = FieldPath(path);
    if (size_t dot = path.rfind('.'); dot != std::string::npos) {
      e.parent = FieldPath(std::string_view(path).substr(0, dot));
    }
    std::shared_ptr<const re2::RE2> re = Compile(pattern);
    for (const auto& [name, index] : re->NamedCapturingGroups()) e.groups.emplace_back(index, name);
    e.re = std::move(re);
    entries_.push_back(std::move(e));
  }
}

bool Extractor::Apply(json* payload, std::string* reason) const {
  std::vector<re2::StringPiece> found;
  for (const Entry& e : entries_) {
    const json* v = e.path.Find(*payload);
    if (v == nullptr || !v->is_string()) continue;
    const std::string& text = v->get_ref<const std::string&>();
    found.assign(static_cast<size_t>(e.re->NumberOfCapturingGroups()) + 1, re2::StringPiece());
    if (!e.re->Match(text, 0, text.size(), re2::RE2::UNANCHORED, found.data(),
                     static_cast<int>(found.size()))) {
      *reason = "validation failed: extract \"" + e.path.text() + "\": no match";
      return false;
    }
    json fields = json::object();
    for (const auto& [index, name] : e.groups) {
      const re2::StringPiece& piece = found[static_cast<size_t>(index)];
      if (piece.data() == nullptr) continue;  // an optional group that took no part
      fields[name] = ParsePlainValue(std::string_view(piece.data(), piece.size()));
    }
    json* holder = e.parent.empty() ? payload : e.parent.Find(*payload);
    if (holder == nullptr || !holder->is_object()) continue;
    for (auto& [name, value] : fields.items()) (*holder)[name] = std::move(value);
  }
  return true;
}

}  // namespace ferry::agent

#include "agent/normalize/route_match.h"

#include <re2/re2.h>

#include "agent/normalize/value_template.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  for (const FieldPath& item : ParsePathList(list)) out.push_back(item.text());
  return out;
}

std::unique_ptr<re2::RE2> Compile(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);  // a hostile pattern in a config cannot take much memory
  return std::make_unique<re2::RE2>(pattern, options);
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::string CheckMatchValues(const std::map<std::string, std::string>& values) {
  for (const auto& [path, list] : values) {
    if (std::string e = CheckPathText(path); !e.empty()) return Quoted(path) + ": path " + e;
    if (SplitList(list).empty()) return Quoted(path) + ": must list at least one value";
  }
  return "";
}

std::string CheckMatchPatterns(const std::map<std::string, std::string>& patterns) {
  for (const auto& [path, pattern] : patterns) {
    if (std::string e = CheckPathText(path); !e.empty()) return Quoted(path) + ": path " + e;
    std::unique_ptr<re2::RE2> re = Compile(pattern);
    if (!re->ok()) return Quoted(path) + ": not an RE2 pattern: " + re->error();
  }
  return "";
}

RouteMatch::RouteMatch(const std::map<std::string, std::string>& values,
                       const std::map<std::string, std::string>& patterns) {
  for (const auto& [path, list] : values) {
    if (!CheckPathText(path).empty()) continue;
    values_.push_back({FieldPath(path), SplitList(list), list});
  }
  for (const auto& [path, pattern] : patterns) {
    std::shared_ptr<const re2::RE2> re = Compile(pattern);
    if (!CheckPathText(path).empty() || !re->ok()) continue;
    patterns_.push_back({FieldPath(path), std::move(re)});
  }
}

bool RouteMatch::Matches(const json& payload, std::string* why) const {
  std::string text;
  for (const OneOf& c : values_) {
    bool found = ValueAsText(c.path.Find(payload), &text);
    bool ok = false;
    for (size_t i = 0; found && !ok && i < c.accepted.size(); ++i) ok = c.accepted[i] == text;
    if (ok) continue;
    if (why != nullptr) {
      *why = "match " + Quoted(c.path.text()) + ": " +
             (found ? Quoted(text) + " is not one of " + c.text : std::string("missing"));
    }
    return false;
  }
  for (const Pattern& p : patterns_) {
    bool found = ValueAsText(p.path.Find(payload), &text);
    if (found && re2::RE2::PartialMatch(text, *p.re)) continue;
    if (why != nullptr) {
      *why = "match_pattern " + Quoted(p.path.text()) + ": " +
             (found ? Quoted(text) + " does not match " + p.re->pattern() : std::string("missing"));
    }
    return false;
  }
  return true;
}

}  // namespace ferry::agent

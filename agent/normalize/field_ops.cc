#include "agent/normalize/field_ops.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace ferry::agent {
namespace {

using nlohmann::json;

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<double> ParseDecimal(std::string_view s) {
  s = TrimSpaces(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

json CastToInt(const json& v) {
  if (v.is_number_integer()) return v;
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  std::optional<double> d;
  if (v.is_number_float()) d = v.get<double>();
  if (v.is_string()) {
    std::string_view s = TrimSpaces(v.get_ref<const std::string&>());
    int64_t i = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return i;
    d = ParseDecimal(s);
  }
  // Doubles at or beyond 2^63 do not fit; the bound is exact in binary.
  if (!d || !std::isfinite(*d) || std::fabs(*d) >= 9.2233720368547758e18) return nullptr;
  return static_cast<int64_t>(std::llround(*d));
}

json CastToFloat(const json& v) {
  if (v.is_number()) {
    double d = v.get<double>();
    return std::isfinite(d) ? json(d) : json(nullptr);
  }
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_string()) {
    std::optional<double> d = ParseDecimal(v.get_ref<const std::string&>());
    if (d) return *d;
  }
  return nullptr;
}

json CastToBool(const json& v) {
  if (v.is_boolean()) return v;
  if (v.is_number()) {
    double d = v.get<double>();
    if (d == 0) return false;
    if (d == 1) return true;
    return nullptr;
  }
  if (!v.is_string()) return nullptr;
  std::string_view s = TrimSpaces(v.get_ref<const std::string&>());
  for (std::string_view word : {"true", "on", "yes", "1"}) {
    if (EqualsIgnoreCase(s, word)) return true;
  }
  for (std::string_view word : {"false", "off", "no", "0"}) {
    if (EqualsIgnoreCase(s, word)) return false;
  }
  return nullptr;
}

bool MatchesSentinel(const json& v, const std::vector<std::string>& texts,
                     const std::vector<double>& numbers) {
  if (v.is_string()) {
    for (const std::string& t : texts) {
      if (v.get_ref<const std::string&>() == t) return true;
    }
    return false;
  }
  if (!v.is_number()) return false;
  double d = v.get<double>();
  for (double n : numbers) {
    if (d == n) return true;
  }
  return false;
}

void NullEverywhere(json* v, const std::vector<std::string>& texts,
                    const std::vector<double>& numbers) {
  if (v->is_structured()) {
    for (json& child : *v) NullEverywhere(&child, texts, numbers);
  } else if (MatchesSentinel(*v, texts, numbers)) {
    *v = nullptr;
  }
}

// Adds the members of `value` (an object) to `out` under "<prefix><separator><key>", nested
// objects recursively; `prefix` is restored on return. A name already in `out` takes the value.
// Each member's map node moves to `out` under its new name: nothing is allocated for it unless
// the new name outgrows the old one's buffer.
void FlattenInto(json&& value, std::string& prefix, std::string_view separator, json* out) {
  size_t keep = prefix.size();
  if (value.is_object() && out->is_object()) {
    auto& members = value.get_ref<json::object_t&>();
    auto& target = out->get_ref<json::object_t&>();
    while (!members.empty()) {
      auto node = members.extract(members.begin());
      prefix.append(separator).append(node.key());
      if (node.mapped().is_object() && !node.mapped().empty()) {
        FlattenInto(std::move(node.mapped()), prefix, separator, out);
      } else {
        node.key() = prefix;
        auto placed = target.insert(std::move(node));
        if (!placed.inserted) placed.position->second = std::move(placed.node.mapped());
      }
      prefix.resize(keep);
    }
    return;
  }
  for (auto& [key, child] : value.items()) {
    prefix.append(separator).append(key);
    if (child.is_object() && !child.empty()) {
      FlattenInto(std::move(child), prefix, separator, out);
    } else {
      (*out)[prefix] = std::move(child);
    }
    prefix.resize(keep);
  }
}

std::string CheckPaths(const std::string& list) {
  for (const FieldPath& p : ParsePathList(list)) {
    if (std::string e = CheckPathText(p.text()); !e.empty()) return e;
  }
  return "";
}

std::string CheckMapKeys(const std::map<std::string, std::string>& map) {
  for (const auto& [path, value] : map) {
    if (std::string e = CheckPathText(path); !e.empty()) return e;
  }
  return "";
}

std::string CheckMapValues(const FieldOpsSpec& spec) {
  for (const auto& [path, target] : spec.rename) {
    if (std::string e = CheckPathText(target); !e.empty()) return "\"" + path + "\": " + e;
  }
  for (const auto& [path, type] : spec.cast) {
    if (!ParseCastType(type)) {
      return "\"" + path + "\": \"" + type + "\" is not one of int, float, bool, string";
    }
  }
  for (const auto* map : {&spec.scale, &spec.offset}) {
    for (const auto& [path, factor] : *map) {
      if (!ParseFactor(factor)) {
        return "\"" + path + "\": \"" + factor + "\" is not a number like \"0.001\" or \"1/60\"";
      }
    }
  }
  return "";
}

}  // namespace

std::optional<CastType> ParseCastType(std::string_view name) { return ParseName<CastType>(name); }

json CastValue(const json& v, CastType type) {
  switch (type) {
    case CastType::kInt:
      return CastToInt(v);
    case CastType::kFloat:
      return CastToFloat(v);
    case CastType::kBool:
      return CastToBool(v);
    case CastType::kString:
      if (v.is_string()) return v;
      if (v.is_number() || v.is_boolean()) return v.dump();
      return nullptr;
  }
  return nullptr;
}

std::optional<std::pair<double, double>> ParseRatio(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    std::optional<double> d = ParseDecimal(text);
    if (!d) return std::nullopt;
    return std::pair(*d, 1.0);
  }
  std::optional<double> num = ParseDecimal(text.substr(0, slash));
  std::optional<double> den = ParseDecimal(text.substr(slash + 1));
  if (!num || !den || *den == 0 || !std::isfinite(*num / *den)) return std::nullopt;
  return std::pair(*num, *den);
}

std::optional<double> ParseFactor(std::string_view text) {
  std::optional<std::pair<double, double>> r = ParseRatio(text);
  if (!r) return std::nullopt;
  return r->first / r->second;
}

void Flatten(json* data, std::string_view separator) {
  if (!data->is_object()) return;
  // In place: members that are not nested objects keep their nodes; only nested objects are
  // taken out and their members added, so most of a flat-ish payload is not rebuilt.
  std::vector<std::string> nested;
  for (const auto& [key, value] : data->items()) {
    if (value.is_object() && !value.empty()) nested.push_back(key);
  }
  std::string prefix;
  for (std::string& key : nested) {
    auto it = data->find(key);
    json child = std::move(*it);
    data->erase(it);
    prefix = std::move(key);
    FlattenInto(std::move(child), prefix, separator, data);
  }
}

std::string CheckFieldOps(const FieldOpsSpec& spec) {
  for (const auto& [path, values] : spec.null_values) {
    if (path == "*") continue;
    if (std::string e = CheckPathText(path); !e.empty()) return e;
  }
  std::string e = CheckPaths(spec.keep);
  if (e.empty()) e = CheckPaths(spec.drop);
  for (const auto* map : {&spec.rename, &spec.cast, &spec.scale, &spec.offset}) {
    if (e.empty()) e = CheckMapKeys(*map);
  }
  if (e.empty()) e = CheckMapValues(spec);
  return e;
}

FieldOps::FieldOps(const FieldOpsSpec& spec)
    : flatten_(spec.flatten), scale_first_(spec.scale_first) {
  for (const auto& [path, values] : spec.null_values) {
    Sentinels s;
    for (const FieldPath& item : ParsePathList(values)) {
      s.texts.push_back(item.text());
      if (std::optional<double> d = ParseFactor(item.text())) s.numbers.push_back(*d);
    }
    if (path == "*") {
      nulls_everywhere_ = std::move(s);
    } else {
      nulls_.emplace_back(FieldPath(path), std::move(s));
    }
  }
  keep_ = ParsePathList(spec.keep);
  drop_ = ParsePathList(spec.drop);
  for (const auto& [from, to] : spec.rename) rename_.emplace_back(FieldPath(from), FieldPath(to));
  for (const auto& [path, type] : spec.cast) {
    if (std::optional<CastType> t = ParseCastType(type)) cast_.emplace_back(FieldPath(path), *t);
  }
  std::map<std::string, Linear> linear;
  for (const auto& [path, factor] : spec.scale) {
    if (std::optional<std::pair<double, double>> r = ParseRatio(factor)) {
      linear[path].scale_num = r->first;
      linear[path].scale_den = r->second;
    }
  }
  for (const auto& [path, addend] : spec.offset) {
    if (std::optional<double> a = ParseFactor(addend)) linear[path].offset = *a;
  }
  for (auto& [path, l] : linear) {
    l.path = FieldPath(path);
    linear_.push_back(std::move(l));
  }
  empty_ = nulls_.empty() && !nulls_everywhere_ && keep_.empty() && drop_.empty() &&
           rename_.empty() && cast_.empty() && linear_.empty() && flatten_.empty();
}

void FieldOps::ApplyNulls(json* data) const {
  if (nulls_everywhere_) NullEverywhere(data, nulls_everywhere_->texts, nulls_everywhere_->numbers);
  for (const auto& [path, s] : nulls_) {
    json* v = path.Find(*data);
    if (v != nullptr && MatchesSentinel(*v, s.texts, s.numbers)) *v = nullptr;
  }
}

void FieldOps::ApplyKeep(json* data) const {
  json kept = json::object();
  for (const FieldPath& path : keep_) {
    // Moving out leaves null behind, so a path overlapping an earlier one finds nothing.
    if (json* v = path.Find(*data); v != nullptr) path.Set(kept, std::move(*v));
  }
  *data = std::move(kept);
}

void FieldOps::ApplyRename(json* data) const {
  for (const auto& [from, to] : rename_) {
    json* v = from.Find(*data);
    if (v == nullptr) continue;
    json value = std::move(*v);
    from.Erase(*data);
    if (!to.Set(*data, std::move(value))) from.Set(*data, std::move(value));
  }
}

void FieldOps::ApplyCast(json* data) const {
  for (const auto& [path, type] : cast_) {
    if (json* v = path.Find(*data); v != nullptr) *v = CastValue(*v, type);
  }
}

void FieldOps::ApplyScale(json* data) const {
  for (const Linear& l : linear_) {
    json* v = l.path.Find(*data);
    // "1/60" multiplies by 1 and divides by 60: 50 Watt-minutes are 50/60 Wh, rounded once.
    if (v != nullptr && v->is_number()) {
      *v = v->get<double>() * l.scale_num / l.scale_den + l.offset;
    }
  }
}

void FieldOps::Apply(json* data) const {
  if (empty_) return;
  ApplyNulls(data);
  if (!keep_.empty()) ApplyKeep(data);
  for (const FieldPath& path : drop_) path.Erase(*data);
  if (scale_first_) ApplyScale(data);
  ApplyRename(data);
  ApplyCast(data);
  if (!scale_first_) ApplyScale(data);
  if (!flatten_.empty()) Flatten(data, flatten_);
}

}  // namespace ferry::agent

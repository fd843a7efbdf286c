#include "agent/normalize/validate.h"

#include <charconv>
#include <cmath>

#include "agent/normalize/payload.h"

namespace ferry::agent {
namespace {

using nlohmann::json;
using Type = Requirement::Type;

struct TypeName {
  const char* name;
  Type type;
};
constexpr TypeName kTypes[] = {
    {"any", Type::kAny},       {"number", Type::kNumber}, {"integer", Type::kInteger},
    {"string", Type::kString}, {"bool", Type::kBool},     {"object", Type::kObject},
    {"array", Type::kArray},
};

const char* NameOf(Type type) {
  for (const TypeName& t : kTypes) {
    if (t.type == type) return t.name;
  }
  return "?";
}

// "a number", "a string", ... for the reason.
std::string Described(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a bool";
  if (v.is_object()) return "an object";
  return "an array";
}

bool HasType(const json& v, Type type) {
  switch (type) {
    case Type::kAny:
      return true;
    case Type::kNumber:
      return v.is_number();
    case Type::kInteger:
      return v.is_number_integer() ||
             (v.is_number_float() && std::nearbyint(v.get<double>()) == v.get<double>());
    case Type::kString:
      return v.is_string();
    case Type::kBool:
      return v.is_boolean();
    case Type::kObject:
      return v.is_object();
    case Type::kArray:
      return v.is_array();
  }
  return false;
}

bool ParseBound(std::string_view s, std::optional<double>* out) {
  if (s.empty()) return true;
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

std::string Number(double d) { return json(d).dump(); }

// Counts members and elements at every depth, stopping once past `limit`.
uint64_t CountFields(const json& v, uint64_t limit) {
  uint64_t n = 0;
  if (!v.is_structured()) return 0;
  for (const json& child : v) {
    n += 1 + CountFields(child, limit - std::min(limit, n));
    if (n > limit) return n;
  }
  return n;
}

std::string CheckOne(const Requirement& r, const json& payload) {
  const json* v = r.path.Find(payload);
  if (v == nullptr) return "missing";
  if (v->is_null()) return "null";
  if (!HasType(*v, r.type)) {
    return std::string("expected ") + (r.type == Type::kInteger ? "an " : "a ") + NameOf(r.type) +
           ", got " + Described(*v);
  }
  if (v->is_number()) {
    double d = v->get<double>();
    if (r.min && d < *r.min) return v->dump() + " is below the minimum " + Number(*r.min);
    if (r.max && d > *r.max) return v->dump() + " is above the maximum " + Number(*r.max);
  }
  return "";
}

}  // namespace

std::optional<Requirement> ParseRequirement(std::string_view path, std::string_view spec,
                                            std::string* error) {
  if (std::string e = CheckPathText(path); !e.empty()) {
    *error = e;
    return std::nullopt;
  }
  Requirement r;
  r.path = FieldPath(path);
  size_t space = spec.find(' ');
  std::string_view type = spec.substr(0, space);
  std::string_view range = space == std::string_view::npos ? "" : spec.substr(space + 1);
  bool known = false;
  for (const TypeName& t : kTypes) {
    if (type == t.name) known = true, r.type = t.type;
  }
  if (!known) {
    *error = "\"" + std::string(spec) +
             "\": the type must be one of any, number, integer, string, bool, object, array";
    return std::nullopt;
  }
  if (range.empty()) return r;
  size_t dots = range.find("..");
  bool numeric = r.type == Type::kNumber || r.type == Type::kInteger;
  if (!numeric || dots == std::string_view::npos || !ParseBound(range.substr(0, dots), &r.min) ||
      !ParseBound(range.substr(dots + 2), &r.max) || (r.min && r.max && *r.min > *r.max)) {
    *error = "\"" + std::string(spec) + "\": a range is \"MIN..MAX\" (either may be left out) " +
             "after number or integer, with MIN <= MAX";
    return std::nullopt;
  }
  return r;
}

std::string CheckValidation(const ValidationSpec& spec) {
  for (const auto& [path, text] : spec.require) {
    std::string error;
    if (!ParseRequirement(path, text, &error)) return "\"" + path + "\": " + error;
  }
  return "";
}

Validator::Validator(const ValidationSpec& spec)
    : max_payload_(spec.max_payload),
      max_depth_(spec.max_depth > 0 && spec.max_depth < kMaxJsonDepth ? spec.max_depth
                                                                      : kMaxJsonDepth),
      max_fields_(spec.max_fields) {
  for (const auto& [path, text] : spec.require) {
    std::string error;
    if (std::optional<Requirement> r = ParseRequirement(path, text, &error)) {
      require_.push_back(std::move(*r));
    }
  }
}

bool Validator::CheckSize(size_t bytes, std::string* reason) const {
  if (max_payload_ == 0 || bytes <= max_payload_) return true;
  *reason = "payload too large: " + std::to_string(bytes) + " bytes, route max_payload is " +
            std::to_string(max_payload_);
  return false;
}

bool Validator::CheckFields(const json& payload, std::string* reason) const {
  if (max_fields_ > 0 && CountFields(payload, max_fields_) > max_fields_) {
    *reason = "validation failed: max_fields: more than " + std::to_string(max_fields_) + " fields";
    return false;
  }
  for (const Requirement& r : require_) {
    std::string problem = CheckOne(r, payload);
    if (problem.empty()) continue;
    *reason = "validation failed: require \"" + r.path.text() + "\": " + problem;
    return false;
  }
  return true;
}

}  // namespace ferry::agent

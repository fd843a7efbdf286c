// Internal to agent/config. The declaration of every config key (config_schema.cc) and the
// generic reader that applies a declaration to a JSON object (config_parse.cc): the file
// itself, and each element of a list such as mqtt.subscriptions or routes.
//
// A key is declared once, with its JSON pointer path, type, default, bounds, allowed values,
// one line of help and where the value goes in the target struct:
//
//   Key<Config>("/upstream/batch/max_records", KeyType::kInt, "Records per batch at most")
//       .Default(10'000).Range(1, 1'000'000).Bind(FERRY_FIELD(upstream.batch_max_records)),
//
// Parsing, validation, defaults and the Markdown reference all read these declarations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"

namespace ferry::agent::schema {

using Errors = std::vector<std::string>;  // one message per problem, each starting with a path

// kStringList: a list of strings; kObjectMap: an object whose members are objects, each with
// the declared `items` keys (transforms: name -> settings).
enum class KeyType {
  kString,
  kInt,
  kBool,
  kDuration,
  kSize,
  kEnum,
  kStringMap,
  kList,
  kStringList,
  kObjectMap
};

// The name the reference prints: "string", "integer", "duration", ...
const char* KeyTypeName(KeyType type);

// A value read from the file (or a default), decoded by its declared type and checked.
struct Value {
  std::string path;                        // where it came from: "/routes/0/topic"
  std::string text;                        // kString, kEnum
  int64_t number = 0;                      // kInt; kDuration in milliseconds
  uint64_t bytes = 0;                      // kSize
  bool flag = false;                       // kBool
  std::map<std::string, std::string> map;  // kStringMap
  const nlohmann::json* list = nullptr;    // kList, kObjectMap: alive while the setter runs
  std::vector<std::string> strings;        // kStringList
};

// A check beyond type and bounds: "" when the value is fine, else what is wrong ("must ...").
using CheckFn = std::string (*)(const Value& value);

// Everything about a key but where it is stored: what the reader checks, the reference prints.
struct KeyInfo {
  std::string path;  // JSON pointer relative to the declared object: "/batch/linger"
  KeyType type = KeyType::kString;
  std::string help;                  // one line for the reference
  bool required = false;             // absent is an error
  nlohmann::json default_value;      // null: no default, the struct's initial value stays
  std::string default_doc;           // printed instead of default_value when not empty
  std::string allowed_doc;           // printed instead of the bounds when not empty
  std::optional<int64_t> min, max;   // value (int, duration ms, size bytes), string length,
                                     // or number of list entries
  std::vector<std::string> allowed;  // kEnum
  CheckFn check = nullptr;
  std::vector<KeyInfo> items;  // kList, kObjectMap: the keys of each element
};

template <typename T>
struct KeyDecl;

// The declared keys of each struct that is read from JSON (specialized in config_schema.cc).
template <typename T>
const std::vector<KeyDecl<T>>& KeysOf();

// Units of the declarations' bounds: durations in ms, sizes in bytes.
constexpr int64_t kSecond = 1'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kKiB = 1 << 10;
constexpr int64_t kMiB = 1 << 20;

// Label names of a map key (the gateway's labels, a route's): none empty.
std::string CheckLabelNames(const Value& v);

// A declaration whose value is stored into a T. Built with the chained calls below.
template <typename T>
struct KeyDecl {
  using Setter = void (*)(T& target, const Value& value, Errors* errors);

  KeyInfo info;
  Setter set = nullptr;

  KeyDecl& Required() {
    info.required = true;
    return *this;
  }
  KeyDecl& Default(nlohmann::json value) {
    info.default_value = std::move(value);
    return *this;
  }
  KeyDecl& DefaultDoc(std::string text) {
    info.default_doc = std::move(text);
    return *this;
  }
  KeyDecl& AllowedDoc(std::string text) {
    info.allowed_doc = std::move(text);
    return *this;
  }
  KeyDecl& Min(int64_t min) {
    info.min = min;
    return *this;
  }
  KeyDecl& Range(int64_t min, int64_t max) {
    info.min = min;
    info.max = max;
    return *this;
  }
  KeyDecl& OneOf(std::vector<std::string> allowed) {
    info.allowed = std::move(allowed);
    return *this;
  }
  KeyDecl& Check(CheckFn check) {
    info.check = check;
    return *this;
  }
  // Every key needs one: where its value goes (see FERRY_FIELD).
  KeyDecl& Bind(Setter setter) {
    set = setter;
    return *this;
  }
  // kList: each element is an object with Item's declared keys.
  template <typename Item>
  KeyDecl& ListOf() {
    info.items.clear();
    for (const auto& key : KeysOf<Item>()) info.items.push_back(key.info);
    return *this;
  }
};

template <typename T>
KeyDecl<T> Key(std::string path, KeyType type, std::string help) {
  KeyDecl<T> key;
  key.info.path = std::move(path);
  key.info.type = type;
  key.info.help = std::move(help);
  return key;
}

template <>
const std::vector<KeyDecl<Config>>& KeysOf<Config>();
template <>
const std::vector<KeyDecl<Subscription>>& KeysOf<Subscription>();
template <>
const std::vector<KeyDecl<Route>>& KeysOf<Route>();
template <>
const std::vector<KeyDecl<TransformConfig>>& KeysOf<TransformConfig>();

// Cross-key rules and derived defaults, applied after every key was read (config_schema.cc).
void FinishConfig(Config* config, Errors* errors);

// --- The reader (config_json.cc, config_parse.cc) ---

// A member name as a JSON pointer step (RFC 6901): "~" -> "~0", "/" -> "~1".
std::string EscapePointer(std::string_view name);

// Parses config text, comments allowed, into *doc. On a syntax error returns false with
// *syntax_error = "line 3, column 7: syntax error while parsing ...". A member name repeated in
// one object adds "<path>: duplicate key" to *errors (JSON would silently keep the last).
bool ParseJsonText(std::string_view text, nlohmann::json* doc, std::string* syntax_error,
                   Errors* errors);

// Adds "<prefix><path>: unknown key" for each member of `object` that no key declares, and
// "expected an object" where a declared parent holds something else.
void CheckUnknownKeys(const nlohmann::json& object, const std::string& prefix,
                      const std::vector<const KeyInfo*>& keys, Errors* errors);
// The member of `object` at the relative `path`; nullptr when it or a parent is absent.
const nlohmann::json* FindPath(const nlohmann::json& object, const std::string& path);
// Decodes `node` (or, when null, the default) into *value and checks type, bounds and the key's
// check. False when there is nothing to store or it is invalid (then an error is added).
bool ReadValue(const KeyInfo& key, const nlohmann::json* node, const std::string& path,
               Value* value, Errors* errors);

template <typename T>
void ParseObject(const nlohmann::json& object, const std::string& prefix, T* out, Errors* errors) {
  const auto& keys = KeysOf<T>();
  std::vector<const KeyInfo*> infos;
  for (const auto& key : keys) infos.push_back(&key.info);
  CheckUnknownKeys(object, prefix, infos, errors);
  for (const auto& key : keys) {
    Value value;
    std::string path = prefix + key.info.path;
    if (ReadValue(key.info, FindPath(object, key.info.path), path, &value, errors)) {
      key.set(*out, value, errors);
    }
  }
}

// --- Storing values: Bind(FERRY_FIELD(member)) picks the overload by the member's type ---

inline void Assign(std::string* out, const Value& v, Errors*) { *out = v.text; }
inline void Assign(bool* out, const Value& v, Errors*) { *out = v.flag; }
inline void Assign(uint64_t* out, const Value& v, Errors*) { *out = v.bytes; }
// Integers and durations: the declared bounds keep the value within the member's range.
inline void Assign(int* out, const Value& v, Errors*) { *out = static_cast<int>(v.number); }
inline void Assign(int64_t* out, const Value& v, Errors*) { *out = v.number; }
inline void Assign(uint32_t* out, const Value& v, Errors*) {
  *out = static_cast<uint32_t>(v.number);
}
inline void Assign(std::map<std::string, std::string>* out, const Value& v, Errors*) {
  *out = v.map;
}
inline void Assign(std::vector<std::string>* out, const Value& v, Errors*) { *out = v.strings; }
// Settings with a fixed set of names (config.h): the declaration's allowed values come from the
// same table, so a name the reader accepted always has its value.
template <typename E>
requires std::is_enum_v<E>
void Assign(E* out, const Value& v, Errors* errors) {
  for (const EnumName<E>& n : NamesOf(E{})) {
    if (n.name == v.text) {
      *out = n.value;
      return;
    }
  }
  errors->push_back(v.path + ": \"" + v.text + "\" is not a known value");
}
// The names of an enum's table, for KeyDecl::OneOf.
template <typename E>
std::vector<std::string> AllowedNames() {
  std::vector<std::string> names;
  for (const EnumName<E>& n : NamesOf(E{})) names.emplace_back(n.name);
  return names;
}
template <typename Item>
void Assign(std::vector<Item>* out, const Value& v, Errors* errors) {
  out->clear();
  for (size_t i = 0; i < v.list->size(); ++i) {
    const nlohmann::json& element = (*v.list)[i];
    std::string path = v.path + "/" + std::to_string(i);
    if (!element.is_object()) {
      errors->push_back(path + ": expected an object");
      continue;
    }
    Item item;
    ParseObject(element, path, &item, errors);
    out->push_back(std::move(item));
  }
}

// kObjectMap: each member an Item read with its declared keys; an Item with a `name` member
// gets the member's name.
template <typename Item>
void Assign(std::map<std::string, Item>* out, const Value& v, Errors* errors) {
  out->clear();
  for (const auto& member : v.list->items()) {
    // Not a structured binding: clang 14 (the fuzz build) cannot name one in a requires below.
    const std::string& name = member.key();
    const auto& element = member.value();
    std::string path = v.path + "/" + EscapePointer(name);
    if (!element.is_object()) {
      errors->push_back(path + ": expected an object");
      continue;
    }
    Item item;
    if constexpr (requires { item.name = name; }) item.name = name;
    ParseObject(element, path, &item, errors);
    out->emplace(name, std::move(item));
  }
}

// A setter storing the value into `member` of the target ("upstream.batch_max_records").
#define FERRY_FIELD(member)                                        \
  [](auto& target, const ::ferry::agent::schema::Value& value,     \
     ::ferry::agent::schema::Errors* errors) {                     \
    ::ferry::agent::schema::Assign(&target.member, value, errors); \
  }

}  // namespace ferry::agent::schema

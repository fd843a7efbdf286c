// Settings with a fixed set of values are enums, parsed once when the config is read (a value
// outside the set is a config error naming its key). Each enum has one table of the names the
// file uses, found by its type (NamesOf(E{}), by argument-dependent lookup), read by the
// declaration (allowed values, reference, schema), the parser and the command line alike.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "platform/log.h"
#include "platform/subprocess.h"

namespace ferry::agent {

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

// The platform's enums live in platform/, their tables here (before the templates below, which
// find them by ordinary lookup).
inline constexpr EnumName<platform::LogFormat> kLogFormatNames[] = {
    {"text", platform::LogFormat::kText}, {"json", platform::LogFormat::kJson}};
inline constexpr EnumName<platform::LogLevel> kLogLevelNames[] = {
    {"debug", platform::LogLevel::kDebug},
    {"info", platform::LogLevel::kInfo},
    {"warn", platform::LogLevel::kWarn},
    {"error", platform::LogLevel::kError}};
inline constexpr EnumName<platform::Isolation> kIsolationNames[] = {
    {"bubblewrap", platform::Isolation::kBubblewrap}, {"none", platform::Isolation::kNone}};
constexpr std::span<const EnumName<platform::LogFormat>> NamesOf(platform::LogFormat) {
  return kLogFormatNames;
}
constexpr std::span<const EnumName<platform::LogLevel>> NamesOf(platform::LogLevel) {
  return kLogLevelNames;
}
constexpr std::span<const EnumName<platform::Isolation>> NamesOf(platform::Isolation) {
  return kIsolationNames;
}

// The name the config file uses for `value` ("drop_oldest"), for logs and messages.
template <typename E>
constexpr std::string_view NameOf(E value) {
  for (const EnumName<E>& n : NamesOf(E{})) {
    if (n.value == value) return n.name;
  }
  return "?";
}

// The value named `name` in E's table; nullopt for a name not in it.
template <typename E>
constexpr std::optional<E> ParseName(std::string_view name) {
  for (const EnumName<E>& n : NamesOf(E{})) {
    if (n.name == name) return n.value;
  }
  return std::nullopt;
}

}  // namespace ferry::agent

#include "agent/record/json_write.h"

#include <array>
#include <charconv>
#include <cmath>

#include "agent/record/record.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

template <typename Int>
void AppendInteger(Int v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendFloat(double v, std::string& out) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // nlohmann's serializer writes floats with this (detail, but the same header's own code).
  std::array<char, 64> buf;
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), end);
}

}  // namespace

void AppendJson(const json& v, std::string& out) {
  switch (v.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.get_ref<const json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(key, out);
        out += ':';
        AppendJson(value, out);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const json& element : v.get_ref<const json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        AppendJson(element, out);
      }
      out += ']';
      return;
    }
    case json::value_t::string:
      AppendJsonString(v.get_ref<const std::string&>(), out);
      return;
    case json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::number_integer:
      AppendInteger(v.get<json::number_integer_t>(), out);
      return;
    case json::value_t::number_unsigned:
      AppendInteger(v.get<json::number_unsigned_t>(), out);
      return;
    case json::value_t::number_float:
      AppendFloat(v.get<json::number_float_t>(), out);
      return;
    case json::value_t::null:
      out += "null";
      return;
    case json::value_t::binary:
    case json::value_t::discarded:
      // Never in a decoded payload; written as nlohmann writes them, whatever that costs.
      out += v.dump(-1, ' ', false, json::error_handler_t::replace);
      return;
  }
}

}  // namespace ferry::agent

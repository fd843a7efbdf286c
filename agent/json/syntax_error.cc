#include "agent/json/syntax_error.h"

#include <nlohmann/json.hpp>

namespace ferry::agent {
namespace {

using nlohmann::json;

// A SAX handler that builds nothing and keeps the parser's error.
class ErrorCollector : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error.byte = position;
    error.detail = ex.what();
    return false;
  }

  JsonSyntaxError error;
};

}  // namespace

JsonSyntaxError FindJsonSyntaxError(std::string_view text, bool ignore_comments) {
  ErrorCollector collector;
  json::sax_parse(text, &collector, json::input_format_t::json, /*strict=*/true, ignore_comments);
  JsonSyntaxError error = std::move(collector.error);
  std::string_view msg = error.detail;
  // Drop "[json.exception.parse_error.101] " and "parse error at line 1, column 27: ".
  if (size_t p = msg.find("] "); p != std::string_view::npos) msg.remove_prefix(p + 2);
  if (msg.starts_with("parse error")) {
    if (size_t p = msg.find(": "); p != std::string_view::npos) msg.remove_prefix(p + 2);
  }
  error.detail = std::string(msg);
  return error;
}

}  // namespace ferry::agent

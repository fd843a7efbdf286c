#include "agent/landing/ndjson_check.h"

#include <cstring>
#include <nlohmann/json.hpp>

#ifdef FERRY_HAVE_SIMDJSON
#include <simdjson.h>
#endif

namespace ferry::landing {
namespace {

using nlohmann::json;

// Follows the parser's events for one line, building nothing: the line must be one JSON object
// whose top-level "id" is a string. About twice as fast as parsing into a json value, and the
// same parser, so the same rules (strict JSON, UTF-8 checked inside strings, nothing after the
// value).
class LineChecker {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  bool null() { return Value(false); }
  bool boolean(bool) { return Value(false); }
  bool number_integer(number_integer_t) { return Value(false); }
  bool number_unsigned(number_unsigned_t) { return Value(false); }
  bool number_float(number_float_t, const string_t&) { return Value(false); }
  bool string(string_t&) { return Value(true); }
  bool binary(binary_t&) { return Value(false); }
  bool start_object(std::size_t) { return Open(); }
  bool start_array(std::size_t) { return depth_ > 0 && Open(); }
  bool end_object() { return --depth_, true; }
  bool end_array() { return --depth_, true; }
  bool key(string_t& k) {
    if (depth_ == 1) at_id_ = k == "id";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    syntax_error_ = e.what();
    return false;
  }

  // "" if the line was accepted, else the reason. Call after sax_parse.
  std::string Reason(bool parsed) const {
    if (!syntax_error_.empty()) return "not valid JSON: " + syntax_error_;
    if (!parsed || depth_ != 0 || !seen_object_) return "not a JSON object";
    if (!id_found_) return "no id field";
    if (!id_is_string_) return "id is not a string";
    return "";
  }

 private:
  bool Value(bool is_string) {
    if (depth_ == 0) return false;  // a scalar instead of an object
    if (at_id_) {
      at_id_ = false;
      id_found_ = true;
      id_is_string_ = is_string;  // with a repeated "id" the last counts, as when parsing
    }
    return true;
  }
  bool Open() {
    if (depth_ == 0) {
      seen_object_ = true;
    } else {
      Value(false);
    }
    ++depth_;
    return true;
  }

  int depth_ = 0;
  bool seen_object_ = false;
  bool at_id_ = false;  // the next value is the top-level "id"
  bool id_found_ = false;
  bool id_is_string_ = false;
  std::string syntax_error_;
};

#ifdef FERRY_HAVE_SIMDJSON
// simdjson validates the whole line (syntax, UTF-8, depth) like nlohmann's parser does, at a
// fraction of the cost; the parser is per thread and reuses its buffers.
std::string CheckLineSimd(const char* begin, const char* end) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto error = parser.parse(begin, static_cast<size_t>(end - begin), true).get(root);
  if (error) return std::string("not valid JSON: ") + simdjson::error_message(error);
  if (!root.is_object()) return "not a JSON object";
  // A repeated "id" is judged by its last value, as nlohmann's parser would.
  bool found = false, is_string = false;
  for (auto field : root.get_object()) {
    if (field.key == "id") {
      found = true;
      is_string = field.value.is_string();
    }
  }
  if (!found) return "no id field";
  if (!is_string) return "id is not a string";
  return "";
}
#endif

// "" if the line is acceptable, else the reason.
std::string CheckLine(const char* begin, const char* end) {
  if (begin == end) return "blank line";
#ifdef FERRY_HAVE_SIMDJSON
  return CheckLineSimd(begin, end);
#endif
  LineChecker checker;
  // Parses straight from the body's bytes: no copy of the line.
  bool parsed = json::sax_parse(begin, end, &checker);
  return checker.Reason(parsed);
}

}  // namespace

NdjsonCheck CheckNdjson(std::string_view text) {
  NdjsonCheck result;
  const char* pos = text.data();
  const char* end = text.data() + text.size();
  while (pos < end) {
    ++result.lines;
    const char* nl = static_cast<const char*>(memchr(pos, '\n', static_cast<size_t>(end - pos)));
    if (nl == nullptr) {
      result.ok = false;
      result.reason = "last line does not end with a newline";
      return result;
    }
    std::string reason = CheckLine(pos, nl);
    if (!reason.empty()) {
      result.ok = false;
      result.reason = std::move(reason);
      return result;
    }
    pos = nl + 1;
  }
  return result;
}

}  // namespace ferry::landing

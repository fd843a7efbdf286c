#include "agent/normalize/payload.h"

#include <array>

#include "agent/json/syntax_error.h"
#include "agent/normalize/line_protocol.h"
#include "agent/normalize/utf8.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 7> kNullWords = {"nan",  "NaN",  "NAN", "-nan",
                                                        "-NaN", "None", "null"};

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A JSON text that is not an object or array starts with one of these (RFC 8259: a string,
// number, true, false or null), or with a UTF-8 byte order mark, which nlohmann skips.
bool CanStartJsonScalar(char c) {
  return c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n' ||
         c == '\xEF';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Counts brackets outside strings; on broken JSON the count is approximate, which is harmless.
bool NestsDeeperThan(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

std::string CutToReasonLength(std::string s) {
  if (s.size() <= kMaxReasonBytes) return s;
  size_t n = kMaxReasonBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // whole characters
  s.resize(n);
  s += "...";
  return s;
}

// "invalid JSON at byte 27: syntax error while parsing object - unexpected ':'; expected '}'"
std::string InvalidJsonReason(std::string_view payload) {
  JsonSyntaxError error = FindJsonSyntaxError(payload);
  if (error.detail.empty()) error.detail = "unknown error";
  return CutToReasonLength("invalid JSON at byte " + std::to_string(error.byte) + ": " +
                           error.detail);
}

void Wrap(json value, std::string_view value_field, json* data, bool* wrapped) {
  *data = json::object();
  (*data)[std::string(value_field)] = std::move(value);
  if (wrapped != nullptr) *wrapped = true;
}

// A JSON string whose content is itself a JSON object or array: the inner value, else null.
json UnwrapEncodedJson(const json& parsed, int max_depth) {
  std::string_view inner = Trim(parsed.get_ref<const std::string&>());
  if (inner.empty() || (inner.front() != '{' && inner.front() != '[')) return nullptr;
  if (NestsDeeperThan(inner, max_depth)) return nullptr;
  json value = json::parse(inner.begin(), inner.end(), nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? json(nullptr) : value;
}

void PlaceJson(json parsed, const DecodeOptions& options, json* data, bool* wrapped) {
  if (parsed.is_string()) {
    json inner = UnwrapEncodedJson(parsed, options.max_depth);
    if (!inner.is_null()) parsed = std::move(inner);
  }
  if (parsed.is_object()) {
    *data = std::move(parsed);
    return;
  }
  Wrap(std::move(parsed), options.value_field, data, wrapped);
}

// nlohmann's own DOM builder (what json::parse uses), stopped at the first object or array
// nested deeper than `max_depth`: the depth is checked in the parse, not by a pass before it.
class DepthLimitedDom : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  DepthLimitedDom(json* result, int max_depth)
      : json_sax_dom_parser(*result, /*allow_exceptions_=*/false), max_depth_(max_depth) {}
  bool start_object(std::size_t n) { return Enter() && json_sax_dom_parser::start_object(n); }
  bool end_object() { return Leave() && json_sax_dom_parser::end_object(); }
  bool start_array(std::size_t n) { return Enter() && json_sax_dom_parser::start_array(n); }
  bool end_array() { return Leave() && json_sax_dom_parser::end_array(); }
  bool too_deep() const { return too_deep_; }

 private:
  bool Enter() {
    too_deep_ = ++depth_ > max_depth_;
    return !too_deep_;
  }
  bool Leave() {
    --depth_;
    return true;
  }
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
};

// `trimmed` parsed as one JSON text into `*parsed` by the depth-limited DOM builder: false on a
// syntax error or a nesting deeper than `max_depth` (then `*too_deep`).
bool ParseDepthLimited(std::string_view trimmed, int max_depth, json* parsed, bool* too_deep) {
  DepthLimitedDom dom(parsed, max_depth);
  bool ok = json::sax_parse(trimmed.data(), trimmed.data() + trimmed.size(), &dom,
                            nlohmann::detail::input_format_t::json, /*strict=*/true,
                            /*ignore_comments=*/false);
  *too_deep = dom.too_deep();
  return ok;
}

std::string TooDeepReason(int max_depth) {
  return "JSON nested deeper than " + std::to_string(max_depth) + " levels";
}

// The json rule; `trimmed` is the payload without surrounding whitespace.
// Too deep wins over a syntax error anywhere, as when the depth was counted before the parse:
// a parse stopped by the depth is too deep; one stopped by a syntax error is too deep if its
// brackets (NestsDeeperThan, on this error path only) say so. On JSON that parses, the parse's
// depth and the bracket count agree.
bool DecodeJson(std::string_view trimmed, const DecodeOptions& options, json* data, bool* wrapped,
                DeadLetterReason* reason) {
  json parsed;
  bool too_deep = false;
  if (!ParseDepthLimited(trimmed, options.max_depth, &parsed, &too_deep)) {
    if (too_deep || ((trimmed.front() == '{' || trimmed.front() == '[') &&
                     NestsDeeperThan(trimmed, options.max_depth))) {
      *reason = {DeadLetterCode::kTooDeep, TooDeepReason(options.max_depth)};
    } else {
      *reason = {DeadLetterCode::kInvalidJson, InvalidJsonReason(trimmed)};
    }
    return false;
  }
  PlaceJson(std::move(parsed), options, data, wrapped);
  return true;
}

}  // namespace

std::optional<PayloadMode> ParsePayloadMode(std::string_view name) {
  return ParseName<PayloadMode>(name);
}

bool DecodeJsonAt(const std::vector<FieldPath>& paths, int max_depth, json* payload,
                  DeadLetterReason* reason) {
  for (const FieldPath& path : paths) {
    json* v = path.Find(*payload);
    if (v == nullptr || !v->is_string()) continue;
    std::string_view text = Trim(v->get_ref<const std::string&>());
    if (text.empty()) continue;
    if (NestsDeeperThan(text, max_depth)) {
      *reason = {DeadLetterCode::kTooDeep, "JSON nested deeper than " + std::to_string(max_depth) +
                                               " levels in \"" + path.text() + "\""};
      return false;
    }
    json parsed = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      *reason = {DeadLetterCode::kInvalidJson,
                 CutToReasonLength(
                     "invalid JSON in \"" + path.text() + "\"" +
                     InvalidJsonReason(text).substr(std::string_view("invalid JSON").size()))};
      return false;
    }
    *v = std::move(parsed);
  }
  return true;
}

json ParsePlainValue(std::string_view text) {
  std::string_view t = Trim(text);
  for (std::string_view word : kNullWords) {
    if (t == word) return nullptr;
  }
  if (t == "true") return true;
  if (t == "false") return false;
  if (!t.empty() && (t.front() == '-' || (t.front() >= '0' && t.front() <= '9'))) {
    // nlohmann keeps the written type: int64, uint64 (exact up to 2^64-1) or double.
    json number = json::parse(t.begin(), t.end(), nullptr, /*allow_exceptions=*/false);
    if (number.is_number()) return number;
  }
  return std::string(t);
}

bool DecodePayload(std::string_view payload, const DecodeOptions& options, json* data,
                   bool* wrapped, DeadLetterReason* reason) {
  if (wrapped != nullptr) *wrapped = false;
  if (options.mode == PayloadMode::kSparkplug) {
    *reason = {DeadLetterCode::kInvalidSparkplug,
               "sparkplug: match conditions cannot test a Sparkplug payload"};
    return false;
  }
  if (payload.empty()) {
    *reason = {DeadLetterCode::kEmptyPayload, "empty payload"};
    return false;
  }
  if (std::optional<size_t> bad = FindInvalidUtf8(payload)) {
    *reason = {DeadLetterCode::kInvalidUtf8,
               "payload is not valid UTF-8 (byte " + std::to_string(*bad) + ")"};
    return false;
  }
  std::string_view trimmed = Trim(payload);
  if (trimmed.empty()) {
    *reason = {DeadLetterCode::kEmptyPayload, "payload is only whitespace"};
    return false;
  }
  switch (options.mode) {
    case PayloadMode::kJson:
      return DecodeJson(trimmed, options, data, wrapped, reason);
    case PayloadMode::kInflux:
      if (ParseLineProtocol(payload, data, &reason->text)) return true;
      reason->code = DeadLetterCode::kInvalidLineProtocol;
      return false;
    case PayloadMode::kText:
    case PayloadMode::kSparkplug:
      break;
    case PayloadMode::kAuto: {
      // Starting with '{' or '[' it was meant as JSON: a parse error is an error, not text.
      if (trimmed.front() == '{' || trimmed.front() == '[') {
        return DecodeJson(trimmed, options, data, wrapped, reason);
      }
      // Text is common here ("ON", "online"): what cannot start a JSON value is not parsed,
      // as nlohmann builds its error message even when it throws nothing.
      if (!CanStartJsonScalar(trimmed.front())) break;
      // Depth-limited too: after a byte order mark an object or array may follow, and
      // nothing else bounds its depth (the record line and the field operations recurse).
      bool too_deep = false;
      if (json parsed; ParseDepthLimited(trimmed, options.max_depth, &parsed, &too_deep)) {
        PlaceJson(std::move(parsed), options, data, wrapped);
        return true;
      }
      if (too_deep) {
        *reason = {DeadLetterCode::kTooDeep, TooDeepReason(options.max_depth)};
        return false;
      }
      break;
    }
  }
  Wrap(ParsePlainValue(trimmed), options.value_field, data, wrapped);
  return true;
}

}  // namespace ferry::agent

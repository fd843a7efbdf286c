#include "agent/normalize/line_protocol.h"

#include <charconv>
#include <cmath>

namespace ferry::agent {
namespace {

using nlohmann::json;

// A cursor over one line; `base` is the line's offset in the payload, for error positions.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  size_t base = 0;
  std::string error;
  size_t error_at = 0;

  bool done() const { return i >= s.size(); }
  char peek() const { return s[i]; }
  bool Fail(std::string what) {
    if (error.empty()) {
      error = std::move(what);
      error_at = base + i;
    }
    return false;
  }
};

// Reads up to an unescaped character of `stops`; escapes of `escapable` drop the backslash.
std::string ReadName(Cursor* c, std::string_view stops, std::string_view escapable) {
  std::string out;
  while (!c->done() && stops.find(c->peek()) == std::string_view::npos) {
    char ch = c->peek();
    if (ch == '\\' && c->i + 1 < c->s.size() &&
        escapable.find(c->s[c->i + 1]) != std::string_view::npos) {
      out += c->s[c->i + 1];
      c->i += 2;
      continue;
    }
    out += ch;
    ++c->i;
  }
  return out;
}

bool Expect(Cursor* c, char ch, const char* what) {
  if (!c->done() && c->peek() == ch) {
    ++c->i;
    return true;
  }
  return c->Fail(std::string("expected ") + what);
}

bool ReadTags(Cursor* c, json* tags) {
  while (!c->done() && c->peek() == ',') {
    ++c->i;
    std::string key = ReadName(c, ",= ", ",= \\");
    if (key.empty()) return c->Fail("empty tag key");
    if (!Expect(c, '=', "'=' after a tag key")) return false;
    std::string value = ReadName(c, ", ", ",= \\");
    if (value.empty()) return c->Fail("empty tag value");
    (*tags)[key] = std::move(value);
  }
  return true;
}

bool ReadStringValue(Cursor* c, json* value) {
  ++c->i;  // the opening quote
  std::string out;
  while (!c->done() && c->peek() != '"') {
    if (c->peek() == '\\' && c->i + 1 < c->s.size() &&
        (c->s[c->i + 1] == '"' || c->s[c->i + 1] == '\\')) {
      ++c->i;
    }
    out += c->s[c->i++];
  }
  if (!Expect(c, '"', "a closing '\"'")) return false;
  *value = std::move(out);
  return true;
}

bool ReadNumberValue(std::string_view token, Cursor* c, json* value) {
  const char* first = token.data();
  const char* last = token.data() + token.size();
  if (token.ends_with('i')) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(first, last - 1, v);
    if (ec != std::errc() || end != last - 1) return c->Fail("bad integer field value");
    *value = v;
    return true;
  }
  if (token.ends_with('u')) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(first, last - 1, v);
    if (ec != std::errc() || end != last - 1) return c->Fail("bad unsigned field value");
    *value = v;
    return true;
  }
  double d = 0;
  auto [end, ec] = std::from_chars(first, last, d);
  bool word = token.find_first_of("nNiI") != std::string_view::npos;  // nan, inf
  if (ec != std::errc() || end != last || word || !std::isfinite(d)) {
    return c->Fail("bad field value \"" + std::string(token.substr(0, 40)) + "\"");
  }
  *value = d;
  return true;
}

bool ReadFieldValue(Cursor* c, json* value) {
  if (c->done()) return c->Fail("missing field value");
  if (c->peek() == '"') return ReadStringValue(c, value);
  size_t start = c->i;
  while (!c->done() && c->peek() != ',' && c->peek() != ' ') ++c->i;
  std::string_view token = c->s.substr(start, c->i - start);
  if (token == "t" || token == "T" || token == "true" || token == "True" || token == "TRUE") {
    *value = true;
    return true;
  }
  if (token == "f" || token == "F" || token == "false" || token == "False" || token == "FALSE") {
    *value = false;
    return true;
  }
  c->i = start;  // for the error position
  if (token.empty()) return c->Fail("missing field value");
  if (!ReadNumberValue(token, c, value)) return false;
  c->i = start + token.size();
  return true;
}

bool ReadFields(Cursor* c, json* fields) {
  while (true) {
    std::string key = ReadName(c, ",= ", ",= \\");
    if (key.empty()) return c->Fail("empty field key");
    if (!Expect(c, '=', "'=' after a field key")) return false;
    json value;
    if (!ReadFieldValue(c, &value)) return false;
    (*fields)[key] = std::move(value);
    if (c->done() || c->peek() != ',') return true;
    ++c->i;
  }
}

bool ReadTimestamp(Cursor* c, json* metric) {
  while (!c->done() && c->peek() == ' ') ++c->i;
  if (c->done()) return true;
  std::string_view rest = c->s.substr(c->i);
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), ts);
  if (ec != std::errc() || end != rest.data() + rest.size()) {
    return c->Fail("bad timestamp (an integer is expected)");
  }
  (*metric)["timestamp"] = ts;
  return true;
}

bool ReadLine(Cursor* c, json* metric) {
  *metric = json::object();
  std::string name = ReadName(c, ", ", ", \\");
  if (name.empty()) return c->Fail("empty measurement");
  (*metric)["name"] = std::move(name);
  json tags = json::object();
  if (!ReadTags(c, &tags)) return false;
  (*metric)["tags"] = std::move(tags);
  if (!Expect(c, ' ', "a space before the fields")) return false;
  while (!c->done() && c->peek() == ' ') ++c->i;
  json fields = json::object();
  if (!ReadFields(c, &fields)) return false;
  (*metric)["fields"] = std::move(fields);
  if (!c->done() && c->peek() != ' ') return c->Fail("expected a space before the timestamp");
  return ReadTimestamp(c, metric);
}

}  // namespace

bool ParseLineProtocol(std::string_view text, json* out, std::string* reason) {
  json metrics = json::array();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    Cursor c;
    c.s = line;
    c.base = pos;
    size_t first = line.find_first_not_of(" \t");
    if (first != std::string_view::npos && line[first] != '#') {
      c.i = first;
      json metric;
      if (!ReadLine(&c, &metric)) {
        *reason = "invalid line protocol at byte " + std::to_string(c.error_at) + ": " + c.error;
        return false;
      }
      metrics.push_back(std::move(metric));
    }
    pos = end + 1;
  }
  if (metrics.empty()) {
    *reason = "invalid line protocol at byte 0: no metric";
    return false;
  }
  *out = metrics.size() == 1 ? std::move(metrics[0]) : json{{"metrics", std::move(metrics)}};
  return true;
}

}  // namespace ferry::agent

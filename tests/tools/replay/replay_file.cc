#include "tools/replay/replay_file.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

namespace ferry::tools {
namespace {

using nlohmann::json;

constexpr size_t kMaxGenerated = 64u << 20;  // refuse generator results larger than this

// Evaluates the tiny subset of Python used by the `generator` lines of nasty.ndjson: string and
// integer literals, `+`, `*`, parentheses, list literals and 'sep'.join(list). Anything else
// makes Eval() return nullopt and the line is skipped.
class PyExpr {
 public:
  explicit PyExpr(std::string_view text) : s_(text) {}

  std::optional<std::string> Eval() {
    std::optional<Value> v = Sum();
    Space();
    if (!v || pos_ != s_.size() || v->kind != Value::kStr) return std::nullopt;
    return v->str;
  }

 private:
  struct Value {
    enum Kind { kStr, kInt, kList } kind = kStr;
    std::string str;
    int64_t num = 0;
    std::vector<std::string> list;
  };

  void Space() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool Eat(char c) {
    Space();
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }

  std::optional<Value> Sum() {
    std::optional<Value> left = Product();
    while (left && Eat('+')) {
      std::optional<Value> right = Product();
      if (!right || right->kind != left->kind || left->kind == Value::kInt) return std::nullopt;
      left->str += right->str;
      left->list.insert(left->list.end(), right->list.begin(), right->list.end());
      if (left->str.size() > kMaxGenerated) return std::nullopt;
    }
    return left;
  }

  std::optional<Value> Product() {
    std::optional<Value> left = Postfix();
    while (left && Eat('*')) {
      std::optional<Value> right = Postfix();
      if (!right) return std::nullopt;
      if (left->kind == Value::kInt) std::swap(*left, *right);
      if (right->kind != Value::kInt || right->num < 0) return std::nullopt;
      if (left->str.size() * right->num > kMaxGenerated) return std::nullopt;
      if (left->list.size() * right->num > kMaxGenerated) return std::nullopt;
      Value out = *left;
      out.str.clear();
      out.list.clear();
      for (int64_t k = 0; k < right->num; ++k) {
        out.str += left->str;
        out.list.insert(out.list.end(), left->list.begin(), left->list.end());
      }
      left = std::move(out);
    }
    return left;
  }

  // atom, optionally followed by .join(expr)
  std::optional<Value> Postfix() {
    std::optional<Value> v = Atom();
    Space();
    if (!v || !s_.substr(pos_).starts_with(".join")) return v;
    pos_ += 5;
    if (v->kind != Value::kStr || !Eat('(')) return std::nullopt;
    std::optional<Value> arg = Sum();
    if (!arg || arg->kind != Value::kList || !Eat(')')) return std::nullopt;
    Value out;
    for (size_t k = 0; k < arg->list.size(); ++k) {
      if (k > 0) out.str += v->str;
      out.str += arg->list[k];
    }
    return out;
  }

  std::optional<Value> Atom() {
    Space();
    if (pos_ >= s_.size()) return std::nullopt;
    char c = s_[pos_];
    if (c == '\'' || c == '"') return String(c);
    if (c >= '0' && c <= '9') return Integer();
    if (Eat('(')) {
      std::optional<Value> v = Sum();
      return v && Eat(')') ? v : std::nullopt;
    }
    if (Eat('[')) return List();
    return std::nullopt;
  }

  std::optional<Value> String(char quote) {
    Value v;
    for (++pos_; pos_ < s_.size() && s_[pos_] != quote; ++pos_) {
      if (s_[pos_] == '\\') return std::nullopt;  // escapes: not "trivial"
      v.str.push_back(s_[pos_]);
    }
    if (pos_ >= s_.size()) return std::nullopt;
    ++pos_;
    return v;
  }

  std::optional<Value> Integer() {
    Value v;
    v.kind = Value::kInt;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v.num = v.num * 10 + (s_[pos_++] - '0');
      if (v.num > int64_t{1} << 40) return std::nullopt;
    }
    return v;
  }

  std::optional<Value> List() {
    Value v;
    v.kind = Value::kList;
    if (Eat(']')) return v;
    do {
      std::optional<Value> item = Sum();
      if (!item || item->kind != Value::kStr) return std::nullopt;
      v.list.push_back(std::move(item->str));
    } while (Eat(','));
    return Eat(']') ? std::optional<Value>(v) : std::nullopt;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Expands a `generator` object; nullopt if it is not the trivial kind.
std::optional<Message> ExpandGenerator(const json& line) {
  const json& gen = line["generator"];
  if (!gen.is_object() || gen.value("lang", "") != "python") return std::nullopt;
  Message msg;
  msg.topic = line.value("topic", json()).is_string() ? line["topic"].get<std::string>() : "";
  msg.payload = line.value("payload", json()).is_string() ? line["payload"].get<std::string>() : "";
  if (gen.contains("payload") && gen["payload"].is_string()) msg.payload = gen["payload"];
  for (const char* key : {"expr", "topic_expr"}) {
    if (!gen.contains(key)) continue;
    if (!gen[key].is_string()) return std::nullopt;
    std::optional<std::string> value = PyExpr(gen[key].get<std::string>()).Eval();
    if (!value) return std::nullopt;
    (std::string_view(key) == "expr" ? msg.payload : msg.topic) = std::move(*value);
  }
  if (gen.contains("bytes") && gen["bytes"] != msg.payload.size()) {
    // The expression is the truth; a wrong size note in the data file is only reported.
    std::fprintf(stderr, "ferry-pub: generator for %s makes %zu bytes, the line says %s\n",
                 msg.topic.c_str(), msg.payload.size(), gen["bytes"].dump().c_str());
  }
  if (msg.topic.empty()) return std::nullopt;
  return msg;
}

// One replay line to a message; nullopt for lines that cannot be published (counted skipped).
std::optional<Message> ReplayLine(const std::string& text) {
  json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!line.is_object()) return std::nullopt;
  if (line.contains("generator")) {
    std::optional<Message> msg = ExpandGenerator(line);
    return msg && BrokerTakesTopic(msg->topic) ? msg : std::nullopt;
  }
  if (!line.contains("topic") || !line["topic"].is_string()) return std::nullopt;
  Message msg{line["topic"].get<std::string>(), ""};
  if (line.contains("payload_hex")) {
    if (!line["payload_hex"].is_string()) return std::nullopt;
    std::optional<std::string> bytes = DecodeHex(line["payload_hex"].get<std::string>());
    if (!bytes) return std::nullopt;
    msg.payload = std::move(*bytes);
  } else if (line.contains("payload") && line["payload"].is_string()) {
    msg.payload = line["payload"].get<std::string>();
  } else if (line.contains("payload")) {
    return std::nullopt;
  }
  return msg;
}

}  // namespace

bool LoadReplay(const std::string& path, std::vector<Message>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "ferry-pub: cannot open %s\n", path.c_str());
    return false;
  }
  std::string text;
  size_t lines = 0, skipped = 0;
  while (std::getline(in, text)) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++lines;
    std::optional<Message> msg = ReplayLine(text);
    if (msg) {
      out->push_back(std::move(*msg));
    } else {
      ++skipped;
      std::fprintf(stderr, "ferry-pub: %s:%zu skipped: %.120s\n", path.c_str(), lines,
                   text.c_str());
    }
  }
  std::printf("replay: %zu lines, %zu messages, skipped %zu\n", lines, out->size(), skipped);
  std::fflush(stdout);
  return true;
}

std::optional<std::string> DecodeHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    if (std::sscanf(std::string(hex.substr(i, 2)).c_str(), "%2x", &value) != 1) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(value));
  }
  return out;
}

bool BrokerTakesTopic(std::string_view topic) {
  return std::count(topic.begin(), topic.end(), '/') <= 200;
}

}  // namespace ferry::tools

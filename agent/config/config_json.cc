// Config text to a JSON document: where syntax errors are, and repeated member names.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config_schema.h"
#include "agent/json/syntax_error.h"

namespace ferry::agent::schema {
namespace {

using nlohmann::json;

// "line 3, column 7: syntax error while parsing object - unexpected '}'; expected ...".
std::string SyntaxError(std::string_view text) {
  JsonSyntaxError error = FindJsonSyntaxError(text, /*ignore_comments=*/true);
  // nlohmann counts the character it stopped at as read: it sits at byte - 1.
  size_t offset = std::min(error.byte > 0 ? error.byte - 1 : 0, text.size());
  std::string_view before = text.substr(0, offset);
  size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  size_t line_start = before.rfind('\n');
  size_t column = offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  if (error.detail.empty()) error.detail = "syntax error";
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
         error.detail;
}

// Follows the parser's events to know the JSON pointer of each member name it reads.
class DuplicateKeyFinder {
 public:
  explicit DuplicateKeyFinder(Errors* errors) : errors_(errors) {}

  bool OnEvent(json::parse_event_t event, const json& parsed) {
    using E = json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        CountArrayElement();
        frames_.push_back(Frame{event == E::array_start, -1, "", {}});
        break;
      case E::object_end:
      case E::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case E::key:
        if (!frames_.empty() && parsed.is_string()) Key(parsed.get<std::string>());
        break;
      case E::value:
        CountArrayElement();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    long index;        // arrays: the element being read
    std::string name;  // objects: the member being read
    std::set<std::string> names;
  };

  void CountArrayElement() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  void Key(const std::string& name) {
    Frame& frame = frames_.back();
    frame.name = name;
    if (frame.names.insert(name).second) return;
    std::string path;
    for (const Frame& f : frames_) {
      path += "/" + (f.array ? std::to_string(f.index) : EscapePointer(f.name));
    }
    errors_->push_back(path + ": duplicate key");
  }

  Errors* errors_;
  std::vector<Frame> frames_;
};

}  // namespace

bool ParseJsonText(std::string_view text, json* doc, std::string* syntax_error, Errors* errors) {
  DuplicateKeyFinder finder(errors);
  json::parser_callback_t callback = [&finder](int, json::parse_event_t event, json& parsed) {
    return finder.OnEvent(event, parsed);
  };
  *doc = json::parse(text, callback, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (!doc->is_discarded()) return true;
  *syntax_error = SyntaxError(text);
  return false;
}

}  // namespace ferry::agent::schema

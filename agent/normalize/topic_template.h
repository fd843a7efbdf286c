// Topic templates of normalization routes: MQTT topic filters whose levels may also capture.
//
//   zigbee2mqtt/{device}        "{name}" matches one level and captures it
//   tele/+/SENSOR               "+" matches one level
//   shellies/#                  "#", only as the last level, matches the rest, also the parent
//                               ("shellies/#" matches "shellies")
//   anything else               a literal level, equal byte for byte
//
// As in MQTT, a wildcard or capture in the first level does not match a topic starting with '$'.
// Immutable after Parse; Match is safe to call concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "platform/status.h"

namespace ferry::agent {

class TopicTemplate {
 public:
  // Matches nothing.
  TopicTemplate() = default;

  // kInvalidArgument, naming the template and the level, when the template is empty, '#' is
  // not the last level, a level mixes '+', '#', '{' or '}' with other characters, a capture
  // name is empty or not [A-Za-z0-9_], or a capture name repeats.
  static platform::Result<TopicTemplate> Parse(std::string_view text);

  // True if `topic` matches. On a match `captures` (if not null) holds one view into `topic`
  // per capture, in template order; on no match its content is unspecified.
  bool Match(std::string_view topic, std::vector<std::string_view>* captures) const;

  // Index of capture `name` in Match's `captures`, or -1 if the template has no such capture.
  int CaptureIndex(std::string_view name) const;
  size_t capture_count() const { return capture_names_.size(); }
  const std::string& text() const { return text_; }

 private:
  enum class Kind { kLiteral, kCapture, kAnyLevel, kRest };
  struct Level {
    Kind kind;
    std::string literal;  // kLiteral only
  };

  static platform::Status AddLevel(std::string_view level, bool last, TopicTemplate* t);

  std::string text_;
  std::vector<Level> levels_;
  std::vector<std::string> capture_names_;
};

}  // namespace ferry::agent

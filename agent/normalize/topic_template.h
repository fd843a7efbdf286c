// Topic templates of normalization routes: MQTT topic filters whose levels may also capture.
//
//   zigbee2mqtt/{device}        "{name}" captures one or more levels (see below)
//   tele/+/SENSOR               "+" matches exactly one level
//   shellies/#                  "#", only as the last level, matches the rest, also the parent
//                               ("shellies/#" matches "shellies")
//   anything else               a literal level, equal byte for byte
//
// Matching rule. Every level matches exactly one topic level, except the first {name} of a
// template without '#': it takes as many levels as the topic has beyond what the rest of the
// template needs, at least one. So the levels before it match from the left and the levels
// after it from the right, and a device name containing '/' is captured whole:
//
//   zigbee2mqtt/{device}         zigbee2mqtt/kitchen/floor_light    device = kitchen/floor_light
//   +/tele/{device}/SENSOR       piegn/tele/elektronik/control0/SENSOR  device =
//   elektronik/control0 shellies/{device}/relay/+    shellies/shellies/shellyem3/relay/0    device
//   = shellies/shellyem3 v3/{app}/devices/{device}/up v3/app1@ttn/devices/dev1/up        app =
//   app1@ttn, device = dev1
//
// Later captures, and every capture of a template ending in '#', take one level. As in MQTT,
// a wildcard or capture in the first level does not match a topic starting with '$'.
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
  // The same, with the topic's number of levels (1 + its count of '/') counted once by a
  // caller that tries many templates on one topic.
  bool Match(std::string_view topic, size_t topic_levels,
             std::vector<std::string_view>* captures) const;
  static size_t CountLevels(std::string_view topic);

  // Index of capture `name` in Match's `captures`, or -1 if the template has no such capture.
  int CaptureIndex(std::string_view name) const;
  size_t capture_count() const { return capture_names_.size(); }
  const std::string& text() const { return text_; }

 private:
  enum class Kind { kLiteral, kCapture, kAnyLevel, kRest };
  struct Level {
    Kind kind;
    std::string literal;  // kLiteral only
    int capture = -1;     // kCapture only: index into captures
  };

  static platform::Status AddLevel(std::string_view level, bool last, TopicTemplate* t);
  bool MatchLevel(const Level& want, std::string_view level,
                  std::vector<std::string_view>* captures) const;
  bool MatchLeftToRight(std::string_view topic, std::vector<std::string_view>* captures) const;
  bool MatchSpanning(std::string_view topic, size_t topic_levels,
                     std::vector<std::string_view>* captures) const;

  std::string text_;
  std::vector<Level> levels_;
  std::vector<std::string> capture_names_;
  int span_ = -1;              // index in levels_ of the capture that may span levels, -1 if none
  size_t min_levels_ = 0;      // a topic with fewer levels cannot match
  bool fixed_levels_ = false;  // a topic with more levels than levels_ cannot match either
};

}  // namespace ferry::agent

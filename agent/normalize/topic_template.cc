#include "agent/normalize/topic_template.h"

#include <algorithm>

namespace ferry::agent {
namespace {

bool IsCaptureNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

platform::Result<TopicTemplate> TopicTemplate::Parse(std::string_view text) {
  if (text.empty()) return platform::Status::InvalidArgument("topic template is empty");
  TopicTemplate t;
  t.text_ = std::string(text);
  size_t pos = 0;
  while (true) {
    size_t end = text.find('/', pos);
    bool last = end == std::string_view::npos;
    if (last) end = text.size();
    platform::Status st = AddLevel(text.substr(pos, end - pos), last, &t);
    if (!st.ok()) {
      return platform::Status::InvalidArgument("topic template \"" + t.text_ +
                                               "\": " + st.message());
    }
    if (last) break;
    pos = end + 1;
  }
  return t;
}

platform::Status TopicTemplate::AddLevel(std::string_view level, bool last, TopicTemplate* t) {
  if (level == "#") {
    if (!last) return platform::Status::InvalidArgument("'#' must be the last level");
    t->levels_.push_back({Kind::kRest, {}});
    return platform::Status::Ok();
  }
  if (level == "+") {
    t->levels_.push_back({Kind::kAnyLevel, {}});
    return platform::Status::Ok();
  }
  std::string level_text(level);
  if (level.size() >= 2 && level.front() == '{' && level.back() == '}') {
    std::string name(level.substr(1, level.size() - 2));
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsCaptureNameChar)) {
      return platform::Status::InvalidArgument("level \"" + level_text +
                                               "\": capture names are [A-Za-z0-9_]+");
    }
    if (t->CaptureIndex(name) >= 0) {
      return platform::Status::InvalidArgument("capture {" + name + "} appears twice");
    }
    t->capture_names_.push_back(std::move(name));
    t->levels_.push_back({Kind::kCapture, {}});
    return platform::Status::Ok();
  }
  if (level.find_first_of("+#{}") != std::string_view::npos) {
    return platform::Status::InvalidArgument("level \"" + level_text +
                                             "\": '+', '#' and {name} must fill a whole level");
  }
  t->levels_.push_back({Kind::kLiteral, std::move(level_text)});
  return platform::Status::Ok();
}

bool TopicTemplate::Match(std::string_view topic, std::vector<std::string_view>* captures) const {
  if (levels_.empty()) return false;
  if (captures != nullptr) captures->clear();
  const bool system_topic = !topic.empty() && topic.front() == '$';
  size_t pos = 0;
  bool topic_done = false;
  for (size_t i = 0; i < levels_.size(); ++i) {
    const Level& want = levels_[i];
    if (i == 0 && system_topic && want.kind != Kind::kLiteral) return false;
    if (want.kind == Kind::kRest) return true;
    if (topic_done) return false;  // the template has more levels than the topic
    size_t end = topic.find('/', pos);
    if (end == std::string_view::npos) {
      end = topic.size();
      topic_done = true;
    }
    std::string_view level = topic.substr(pos, end - pos);
    pos = end + 1;
    if (want.kind == Kind::kLiteral && level != want.literal) return false;
    if (want.kind == Kind::kCapture && captures != nullptr) captures->push_back(level);
  }
  return topic_done;
}

int TopicTemplate::CaptureIndex(std::string_view name) const {
  for (size_t i = 0; i < capture_names_.size(); ++i) {
    if (capture_names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ferry::agent

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
  bool rest = t.levels_.back().kind == Kind::kRest;
  if (!rest) {
    for (size_t i = 0; i < t.levels_.size() && t.span_ < 0; ++i) {
      if (t.levels_[i].kind == Kind::kCapture) t.span_ = static_cast<int>(i);
    }
  }
  t.min_levels_ = rest ? t.levels_.size() - 1 : t.levels_.size();  // "a/#" matches "a"
  t.fixed_levels_ = !rest && t.span_ < 0;
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
    t->levels_.push_back({Kind::kCapture, {}, static_cast<int>(t->capture_names_.size() - 1)});
    return platform::Status::Ok();
  }
  if (level.find_first_of("+#{}") != std::string_view::npos) {
    return platform::Status::InvalidArgument("level \"" + level_text +
                                             "\": '+', '#' and {name} must fill a whole level");
  }
  t->levels_.push_back({Kind::kLiteral, std::move(level_text)});
  return platform::Status::Ok();
}

bool TopicTemplate::MatchLevel(const Level& want, std::string_view level,
                               std::vector<std::string_view>* captures) const {
  if (want.kind == Kind::kLiteral) return level == want.literal;
  if (want.kind == Kind::kCapture && captures != nullptr) (*captures)[want.capture] = level;
  return true;
}

size_t TopicTemplate::CountLevels(std::string_view topic) {
  return 1 + static_cast<size_t>(std::count(topic.begin(), topic.end(), '/'));
}

bool TopicTemplate::Match(std::string_view topic, std::vector<std::string_view>* captures) const {
  return Match(topic, CountLevels(topic), captures);
}

bool TopicTemplate::Match(std::string_view topic, size_t topic_levels,
                          std::vector<std::string_view>* captures) const {
  if (levels_.empty() || topic_levels < min_levels_) return false;
  if (fixed_levels_ && topic_levels != levels_.size()) return false;
  if (!topic.empty() && topic.front() == '$' && levels_[0].kind != Kind::kLiteral) return false;
  if (captures != nullptr) captures->assign(capture_names_.size(), std::string_view());
  return span_ < 0 ? MatchLeftToRight(topic, captures)
                   : MatchSpanning(topic, topic_levels, captures);
}

bool TopicTemplate::MatchLeftToRight(std::string_view topic,
                                     std::vector<std::string_view>* captures) const {
  size_t pos = 0;
  bool topic_done = false;
  for (const Level& want : levels_) {
    if (want.kind == Kind::kRest) return true;
    if (topic_done) return false;  // the template has more levels than the topic
    size_t end = topic.find('/', pos);
    if (end == std::string_view::npos) {
      end = topic.size();
      topic_done = true;
    }
    if (!MatchLevel(want, topic.substr(pos, end - pos), captures)) return false;
    pos = end + 1;
  }
  return topic_done;
}

// Levels before span_ from the left, levels after it from the right, the rest to span_.
bool TopicTemplate::MatchSpanning(std::string_view topic, size_t topic_levels,
                                  std::vector<std::string_view>* captures) const {
  if (topic_levels < levels_.size()) return false;
  size_t begin = 0;  // start of the first level not yet matched from the left
  for (int i = 0; i < span_; ++i) {
    size_t end = topic.find('/', begin);  // exists: more levels follow
    if (!MatchLevel(levels_[i], topic.substr(begin, end - begin), captures)) return false;
    begin = end + 1;
  }
  size_t end = topic.size();  // one past the last level not yet matched from the right
  for (size_t i = levels_.size() - 1; i > static_cast<size_t>(span_); --i) {
    // A '/' precedes this level: the topic has more levels than are left to match.
    if (end == 0) return false;
    size_t slash = topic.rfind('/', end - 1);
    if (!MatchLevel(levels_[i], topic.substr(slash + 1, end - slash - 1), captures)) return false;
    end = slash;
  }
  if (captures != nullptr) (*captures)[levels_[span_].capture] = topic.substr(begin, end - begin);
  return true;
}

int TopicTemplate::CaptureIndex(std::string_view name) const {
  for (size_t i = 0; i < capture_names_.size(); ++i) {
    if (capture_names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ferry::agent

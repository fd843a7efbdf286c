#include "agent/sparkplug/sparkplug_topic.h"

#include <array>

namespace ferry::agent {

bool IsSparkplugTopic(std::string_view topic) {
  return topic.size() > kSparkplugNamespace.size() && topic.starts_with(kSparkplugNamespace) &&
         topic[kSparkplugNamespace.size()] == '/' && !topic.starts_with("spBv1.0/STATE/");
}

std::optional<SparkplugTopic> ParseSparkplugTopic(std::string_view topic) {
  std::array<std::string_view, 5> level;
  size_t n = 0, start = 0;
  while (true) {
    size_t slash = topic.find('/', start);
    std::string_view part =
        topic.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (n == level.size() || part.empty()) return std::nullopt;
    level[n++] = part;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (n < 4 || level[0] != kSparkplugNamespace) return std::nullopt;
  std::string_view type = level[2];
  if (type.size() < 4 || (type[0] != 'N' && type[0] != 'D')) return std::nullopt;
  if ((type[0] == 'D') != (n == 5)) return std::nullopt;
  SparkplugTopic t{level[1], type, level[3], n == 5 ? level[4] : std::string_view()};
  std::string_view what = type.substr(1);
  if (what == "BIRTH") {
    t.kind = SparkplugKind::kBirth;
  } else if (what == "DATA") {
    t.kind = SparkplugKind::kData;
  } else if (what == "DEATH") {
    t.kind = SparkplugKind::kDeath;
  } else if (what == "CMD") {
    t.kind = SparkplugKind::kCommand;
  } else {
    return std::nullopt;
  }
  return t;
}

}  // namespace ferry::agent

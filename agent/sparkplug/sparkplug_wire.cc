#include "agent/sparkplug/sparkplug_wire.h"

#include <cstdint>

namespace ferry::agent {
namespace {

// The messages of the Payload that hold other messages; every other message is a leaf.
enum class Kind {
  kLeaf,
  kPayload,
  kMetric,
  kTemplate,
  kDataSet,
  kRow,
  kPropertySet,
  kPropertyValue,
  kPropertySetList
};

Kind ChildKind(Kind parent, uint64_t field) {
  switch (parent) {
    case Kind::kPayload:
      return field == 2 ? Kind::kMetric : Kind::kLeaf;
    case Kind::kMetric:
      if (field == 9) return Kind::kPropertySet;
      if (field == 17) return Kind::kDataSet;
      if (field == 18) return Kind::kTemplate;
      return Kind::kLeaf;
    case Kind::kTemplate:
      return field == 2 ? Kind::kMetric : Kind::kLeaf;
    case Kind::kDataSet:
      return field == 4 ? Kind::kRow : Kind::kLeaf;
    case Kind::kPropertySet:
      return field == 2 ? Kind::kPropertyValue : Kind::kLeaf;
    case Kind::kPropertyValue:
      if (field == 9) return Kind::kPropertySet;
      if (field == 10) return Kind::kPropertySetList;
      return Kind::kLeaf;
    case Kind::kPropertySetList:
      return field == 1 ? Kind::kPropertySet : Kind::kLeaf;
    default:
      return Kind::kLeaf;
  }
}

bool ReadVarint(std::string_view s, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *pos < s.size(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(s[(*pos)++]);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// True unless a message deeper than `max_depth` is found (`depth` is this message's level).
bool Walk(std::string_view s, Kind kind, int depth, int max_depth) {
  if (depth > max_depth) return false;
  size_t pos = 0;
  while (pos < s.size()) {
    uint64_t key = 0;
    if (!ReadVarint(s, &pos, &key)) return true;
    uint64_t field = key >> 3, v = 0;
    switch (key & 7) {
      case 0:
        if (!ReadVarint(s, &pos, &v)) return true;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        if (!ReadVarint(s, &pos, &v) || v > s.size() - pos) return true;
        Kind child = ChildKind(kind, field);
        if (child != Kind::kLeaf && child != Kind::kRow &&
            !Walk(s.substr(pos, v), child, depth + 1, max_depth)) {
          return false;
        }
        if (child == Kind::kRow && depth + 2 > max_depth) return false;
        pos += v;
        break;
      }
      default:
        return true;  // groups or invalid: the decoder refuses them
    }
  }
  return true;
}

}  // namespace

bool SparkplugDepthWithin(std::string_view bytes, int max_depth) {
  return Walk(bytes, Kind::kPayload, 1, max_depth);
}

}  // namespace ferry::agent

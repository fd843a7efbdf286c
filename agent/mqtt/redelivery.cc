#include "agent/mqtt/redelivery.h"

#include <algorithm>

namespace ferry::agent {

uint64_t RedeliveryFilter::Hash(std::string_view topic, std::string_view payload) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  };
  mix(topic);
  mix(std::string_view("\0", 1));
  mix(payload);
  return h;
}

void RedeliveryFilter::Pack(uint16_t mid, uint64_t hash, std::string& out) {
  char buf[kPackedSize];
  buf[0] = static_cast<char>(mid & 0xff);
  buf[1] = static_cast<char>(mid >> 8);
  for (int i = 0; i < 8; ++i) buf[2 + i] = static_cast<char>((hash >> (8 * i)) & 0xff);
  out.append(buf, kPackedSize);
}

void RedeliveryFilter::Load(const std::vector<std::string>& newest_first) {
  for (auto group = newest_first.rbegin(); group != newest_first.rend(); ++group) {
    const std::string& g = *group;
    for (size_t off = 0; off + kPackedSize <= g.size(); off += kPackedSize) {
      auto b = [&](size_t i) {
        return static_cast<uint64_t>(static_cast<unsigned char>(g[off + i]));
      };
      uint16_t mid = static_cast<uint16_t>(b(0) | (b(1) << 8));
      uint64_t hash = 0;
      for (int i = 0; i < 8; ++i) hash |= b(2 + i) << (8 * i);
      Remember(mid, hash);
    }
  }
}

size_t RedeliveryFilter::CapacityFor(uint32_t commit_max_records) {
  return std::max<size_t>(kCapacity, 2 * static_cast<size_t>(commit_max_records));
}

void RedeliveryFilter::Remember(uint16_t mid, uint64_t hash) {
  recent_.emplace_back(mid, hash);
  if (recent_.size() > capacity_) {
    recent_.pop_front();
    if (next_ > 0) --next_;
  }
}

bool RedeliveryFilter::IsRedelivery(uint16_t mid, uint64_t hash) {
  if (!armed_) return false;
  const std::pair<uint16_t, uint64_t> wanted{mid, hash};
  if (next_ < recent_.size() && recent_[next_] == wanted) {
    ++next_;
    return true;
  }
  auto it = std::find(recent_.rbegin(), recent_.rend(), wanted);
  if (it == recent_.rend()) {
    armed_ = false;
    return false;
  }
  next_ = recent_.size() - static_cast<size_t>(it - recent_.rbegin());
  return true;
}

}  // namespace ferry::agent

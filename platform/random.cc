#include "platform/random.h"

#include <sys/random.h>

#include <chrono>

namespace ferry::platform {

OsRandom::OsRandom() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed) || seed == 0) {
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) |
           1;  // getrandom fails only on ancient kernels; the clock is good enough for jitter
  }
  state_ = seed;
}

uint64_t OsRandom::Next() {
  // xorshift64*: fast, and plenty for jitter and epoch names.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return state_ * 0x2545F4914F6CDD1DULL;
}

std::string RandomToken(Random& random, size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(length, 'a');
  for (auto& c : out) c = kAlphabet[random.Below(sizeof kAlphabet - 1)];
  return out;
}

}  // namespace ferry::platform

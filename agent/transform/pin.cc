#include "agent/transform/pin.h"

#include <openssl/sha.h>

#include "platform/file.h"

namespace ferry::agent {

std::string PinnedFile(const TransformConfig& transform) {
  if (!transform.file.empty()) return transform.file;
  return transform.command.empty() ? "" : transform.command.back();
}

platform::Result<std::string> Sha256OfFile(const std::string& path) {
  platform::Result<std::string> bytes = platform::ReadFile(path);
  if (!bytes.ok()) return bytes.status().WithContext("reading " + path);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes->data()), bytes->size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace ferry::agent

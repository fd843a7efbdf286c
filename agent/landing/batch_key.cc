#include "agent/landing/batch_key.h"

namespace ferry::landing {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z'); }
bool IsGatewayChar(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

}  // namespace

bool IsValidGateway(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!IsGatewayChar(c)) return false;
  }
  return true;
}

bool IsValidEpoch(std::string_view epoch) {
  if (epoch.empty() || epoch.size() > 32) return false;
  for (char c : epoch) {
    if (!IsLowerAlnum(c)) return false;
  }
  return true;
}

bool ParseDecimal(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  // Leading zeros would give one range two spellings, and so two keys for one batch.
  if (text.size() > 1 && text[0] == '0') return false;
  uint64_t v = 0;
  for (char c : text) {
    if (!IsDigit(c)) return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *value = v;
  return true;
}

platform::Result<BatchKey> ParseBatchKey(std::string_view text) {
  using platform::Status;
  size_t dot1 = text.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || text.find('.', dot2 + 1) != std::string_view::npos) {
    return Status::InvalidArgument("must be <gateway>.<epoch>.<first>-<last>");
  }
  BatchKey key;
  key.gateway = std::string(text.substr(0, dot1));
  key.epoch = std::string(text.substr(dot1 + 1, dot2 - dot1 - 1));
  std::string_view range = text.substr(dot2 + 1);
  if (!IsValidGateway(key.gateway)) {
    return Status::InvalidArgument("gateway must be 1-64 of [A-Za-z0-9_-]");
  }
  if (!IsValidEpoch(key.epoch)) return Status::InvalidArgument("epoch must be 1-32 of [a-z0-9]");
  size_t dash = range.find('-');
  if (dash == std::string_view::npos) {
    return Status::InvalidArgument("sequence range must be <first>-<last>");
  }
  if (!ParseDecimal(range.substr(0, dash), &key.first) ||
      !ParseDecimal(range.substr(dash + 1), &key.last)) {
    return Status::InvalidArgument(
        "first and last must be unsigned decimal numbers (no sign, no leading zeros)");
  }
  if (key.first > key.last) {
    return Status::InvalidArgument("first sequence number is greater than the last");
  }
  key.text = std::string(text);
  return key;
}

}  // namespace ferry::landing

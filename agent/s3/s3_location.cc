#include "agent/s3/s3_location.h"

#include <zstd.h>

#include <nlohmann/json.hpp>

namespace ferry::s3 {
namespace {

using platform::Status;

constexpr size_t kMaxFirstLine = 1u << 20;  // a first record larger than this is refused

bool IsBucketChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63 || !IsAlnum(b.front()) || !IsAlnum(b.back())) return false;
  for (char c : b) {
    if (!IsBucketChar(c)) return false;
  }
  return b.find("..") == std::string_view::npos;
}

bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

// The first line of zstd frames, decoding no more than needed.
platform::Result<std::string> FirstLineOfZstd(std::string_view body) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return Status::Internal("zstd: cannot create a decompression context");
  std::string line;
  char buf[4096];
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  while (line.size() < kMaxFirstLine) {
    ZSTD_outBuffer out{buf, sizeof buf, 0};
    size_t rc = ZSTD_decompressStream(dctx.get(), &out, &in);
    if (ZSTD_isError(rc)) {
      return Status::InvalidArgument(std::string("body is not valid zstd: ") +
                                     ZSTD_getErrorName(rc));
    }
    std::string_view got(buf, out.pos);
    size_t nl = got.find('\n');
    line.append(got.substr(0, nl));
    if (nl != std::string_view::npos) return line;
    if (out.pos == 0 && in.pos == in.size) break;  // all input consumed, no newline
  }
  if (line.empty()) return Status::InvalidArgument("body holds no record");
  return line;
}

}  // namespace

bool IsS3Url(std::string_view url) { return url.rfind("s3://", 0) == 0; }

platform::Result<S3Location> ParseS3Url(std::string_view url) {
  if (!IsS3Url(url)) return Status::InvalidArgument("must start with s3://");
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  if (!IsValidBucket(loc.bucket)) {
    return Status::InvalidArgument("bucket name '" + loc.bucket +
                                   "' must be 3-63 of [a-z0-9.-], starting and ending with a "
                                   "letter or digit");
  }
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  size_t start = 0;
  while (!prefix.empty() && start <= prefix.size()) {
    size_t end = prefix.find('/', start);
    if (end == std::string_view::npos) end = prefix.size();
    std::string_view segment = prefix.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return Status::InvalidArgument("prefix '" + std::string(prefix) +
                                     "' has an empty, '.' or '..' segment");
    }
    for (char c : segment) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == '?' || c == '#') {
        return Status::InvalidArgument("prefix '" + std::string(prefix) +
                                       "' holds a control character, '\\', '?' or '#'");
      }
    }
    start = end + 1;
  }
  loc.prefix = std::string(prefix);
  return loc;
}

std::string ObjectKey(std::string_view prefix, std::string_view gateway, std::string_view date,
                      std::string_view idempotency_key) {
  std::string key;
  key.reserve(prefix.size() + gateway.size() + idempotency_key.size() + 48);
  if (!prefix.empty()) key.append(prefix).append("/");
  key.append("gateway=").append(gateway).append("/dt=").append(date).append("/");
  key.append(idempotency_key).append(".ndjson.zst");
  return key;
}

platform::Result<std::string> DateOfFirstLine(std::string_view ndjson) {
  std::string_view line = ndjson.substr(0, ndjson.find('\n'));
  nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
  if (!record.is_object()) return Status::InvalidArgument("first line is not a JSON object");
  auto it = record.find("received_at");
  if (it == record.end() || !it->is_string()) {
    return Status::InvalidArgument("first record has no received_at string");
  }
  const std::string& at = it->get_ref<const std::string&>();
  // RFC 3339 in UTC, as the agent writes it: "2026-11-21T10:15:00.456Z".
  bool shaped =
      at.size() >= 20 && at[4] == '-' && at[7] == '-' && (at[10] == 'T' || at[10] == 't') &&
      IsDigits(std::string_view(at).substr(0, 4)) && IsDigits(std::string_view(at).substr(5, 2)) &&
      IsDigits(std::string_view(at).substr(8, 2)) && (at.back() == 'Z' || at.back() == 'z');
  if (!shaped) {
    return Status::InvalidArgument("first record's received_at '" + at +
                                   "' is not an RFC 3339 UTC time (...Z)");
  }
  return at.substr(0, 10);
}

platform::Result<std::string> BatchDate(std::string_view body, bool compressed) {
  if (!compressed) return DateOfFirstLine(body);
  auto line = FirstLineOfZstd(body);
  if (!line.ok()) return line.status();
  return DateOfFirstLine(*line);
}

}  // namespace ferry::s3

#include "agent/forward/verdict.h"

#include <time.h>

#include <charconv>
#include <string>

namespace ferry::agent {

int64_t ParseRetryAfterMs(std::string_view value, int64_t now_wall_ms) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return -1;
  int64_t secs = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
  if (ec == std::errc() && ptr == value.data() + value.size()) {
    return secs < 0 ? -1 : (secs > 86'400 * 365 ? 86'400'000LL * 365 : secs * 1000);
  }
  tm t{};
  std::string s(value);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &t);
  if (!end || *end != '\0') return -1;
  int64_t at_ms = static_cast<int64_t>(timegm(&t)) * 1000;
  return at_ms > now_wall_ms ? at_ms - now_wall_ms : 0;
}

// nginx in front of a landing zone answers a TLS problem of the client's with 400 and a page
// that names it; such a batch is not refused for its records, so bisecting it would dead-letter
// every record. Treated as the access failure it is.
bool IsNginxTlsRefusal(int status, std::string_view body) {
  if (status != 400 && status != 495 && status != 496) return false;
  return body.find("SSL certificate") != std::string_view::npos ||
         body.find("plain HTTP request was sent to HTTPS port") != std::string_view::npos;
}

Verdict ClassifyResponse(int status, std::string_view retry_after, int64_t now_wall_ms,
                         std::string_view body) {
  Verdict v;
  if (IsNginxTlsRefusal(status, body)) {
    v.kind = VerdictKind::kAuthFailed;
    return v;
  }
  if (status >= 200 && status < 300) {
    v.kind = VerdictKind::kDelivered;
  } else if (status == 429 || status == 503) {
    v.kind = VerdictKind::kRetry;
    v.retry_after_ms = ParseRetryAfterMs(retry_after, now_wall_ms);
  } else if (status == 413) {
    v.kind = VerdictKind::kSplit;
  } else if (status == 401 || status == 403) {
    v.kind = VerdictKind::kAuthFailed;
  } else if (status >= 400 && status < 500 && status != 408) {
    v.kind = VerdictKind::kReject;
  } else {
    // 408, 5xx, no response, and answers that are no outcome at all (1xx, a 3xx redirect,
    // which is not followed for a POST): worth another try of the same batch.
    v.kind = VerdictKind::kRetry;
  }
  return v;
}

const char* VerdictName(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kDelivered:
      return "delivered";
    case VerdictKind::kRetry:
      return "retry";
    case VerdictKind::kSplit:
      return "split";
    case VerdictKind::kReject:
      return "reject";
    case VerdictKind::kAuthFailed:
      return "auth_failed";
  }
  return "retry";
}

}  // namespace ferry::agent

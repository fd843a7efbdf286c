#include "agent/forward/verdict.h"

#include <time.h>

#include <charconv>
#include <string>

namespace ferry::agent {

namespace {

// Milliseconds since 1970 of a UTC calendar time, in 64 bits: timegm's time_t is 32 bits on
// armhf (Debian 12) and wraps for dates past 2038. (Howard Hinnant's days_from_civil.)
int64_t UtcMillis(const tm& t) {
  int64_t y = int64_t{t.tm_year} + 1900 - (t.tm_mon < 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (t.tm_mon + 10) % 12;  // tm_mon counts from January = 0; here March = 0
  int64_t doy = (153 * mp + 2) / 5 + t.tm_mday - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146'097 + doe - 719'468;
  return ((days * 24 + t.tm_hour) * 60 + t.tm_min) * 60'000 + int64_t{t.tm_sec} * 1000;
}

}  // namespace

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
  int64_t at_ms = UtcMillis(t);
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

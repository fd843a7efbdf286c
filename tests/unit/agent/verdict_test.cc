#include "agent/forward/verdict.h"

#include <doctest/doctest.h>

using ferry::agent::ClassifyResponse;
using ferry::agent::ParseRetryAfterMs;
using ferry::agent::VerdictKind;

namespace {
constexpr int64_t kNow = 1'445'412'480'000;  // Wed, 21 Oct 2015 07:28:00 GMT
}

TEST_CASE("every HTTP status maps to the protocol's verdict") {
  for (int status = 100; status < 600; ++status) {
    VerdictKind want;
    if (status >= 200 && status < 300) {
      want = VerdictKind::kDelivered;
    } else if (status == 413) {
      want = VerdictKind::kSplit;
    } else if (status == 401 || status == 403) {
      want = VerdictKind::kAuthFailed;
    } else if (status >= 400 && status < 500 && status != 408 && status != 429) {
      want = VerdictKind::kReject;
    } else {
      want = VerdictKind::kRetry;  // 1xx, 3xx, 408, 429, 5xx
    }
    CAPTURE(status);
    CHECK(ClassifyResponse(status, "", kNow).kind == want);
  }
}

TEST_CASE("no response at all is retried with the backoff") {
  auto v = ClassifyResponse(0, "", kNow);
  CHECK(v.kind == VerdictKind::kRetry);
  CHECK(v.retry_after_ms == -1);
}

TEST_CASE("Retry-After is honoured on 429 and 503 only") {
  CHECK(ClassifyResponse(429, "7", kNow).retry_after_ms == 7000);
  CHECK(ClassifyResponse(503, "Wed, 21 Oct 2015 07:28:30 GMT", kNow).retry_after_ms == 30000);
  CHECK(ClassifyResponse(500, "7", kNow).retry_after_ms == -1);
  CHECK(ClassifyResponse(503, "soon", kNow).retry_after_ms == -1);
}

TEST_CASE("Retry-After forms") {
  CHECK(ParseRetryAfterMs("0", kNow) == 0);
  CHECK(ParseRetryAfterMs(" 120 ", kNow) == 120000);
  CHECK(ParseRetryAfterMs("-5", kNow) == -1);
  CHECK(ParseRetryAfterMs("1.5", kNow) == -1);
  CHECK(ParseRetryAfterMs("", kNow) == -1);
  CHECK(ParseRetryAfterMs("Wed, 21 Oct 2015 07:27:00 GMT", kNow) == 0);  // in the past: now
  CHECK(ParseRetryAfterMs("Wed, 21 Oct 2015 08:28:00 GMT", kNow) == 3'600'000);
  CHECK(ParseRetryAfterMs("21 Oct 2015 08:28:00", kNow) == -1);
  CHECK(ParseRetryAfterMs("99999999999999", kNow) == 86'400'000LL * 365);  // capped at a year
}

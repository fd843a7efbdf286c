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

TEST_CASE("nginx's answers to a client TLS problem keep the batch instead of dead-lettering it") {
  // The pages nginx sends (ngx_http_special_response.c) when mutual TLS or https is misused.
  const char* no_cert =
      "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n"
      "<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL "
      "certificate was sent</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
  CHECK(ClassifyResponse(400, "", kNow, no_cert).kind == VerdictKind::kAuthFailed);
  CHECK(ClassifyResponse(400, "", kNow, "<title>400 The SSL certificate error</title>").kind ==
        VerdictKind::kAuthFailed);
  CHECK(ClassifyResponse(400, "", kNow,
                         "<center>The plain HTTP request was sent to HTTPS port</center>")
            .kind == VerdictKind::kAuthFailed);
  CHECK(ClassifyResponse(496, "", kNow, no_cert).kind == VerdictKind::kAuthFailed);
  // A refusal of the records themselves stays one, whatever else the body says.
  CHECK(ClassifyResponse(400, "", kNow, "line 3: not a JSON object").kind == VerdictKind::kReject);
  CHECK(ClassifyResponse(422, "", kNow, no_cert).kind == VerdictKind::kReject);
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

// Finding 9 of issue 10 (32-bit overflow): an HTTP date was turned into seconds with timegm,
// whose time_t is 32 bits on armhf (Debian 12) and wraps past 2038. (Fails before the fix on
// armhf, where the cross-build runs these tests under qemu.)
TEST_CASE("regression issue 10 #9: a Retry-After date past 2038 is read in 64 bits") {
  const int64_t y2040 = 2'208'988'800'000;  // 2040-01-01T00:00:00Z
  CHECK(ParseRetryAfterMs("Sun, 01 Jan 2040 00:00:00 GMT", y2040 - 60'000) == 60'000);
  CHECK(ParseRetryAfterMs("Sun, 01 Jan 2040 00:00:00 GMT", y2040 + 1) == 0);
  CHECK(ParseRetryAfterMs("Thu, 29 Feb 2024 12:00:00 GMT", 1'709'208'000'000 - 1'000) == 1'000);
}

// What the agent does with a landing zone's answer (landing-protocol.md, "Response"): one pure
// function of the response, tested exhaustively without sockets.
#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::agent {

enum class VerdictKind {
  kDelivered,   // 2xx: the batch is durable at the landing zone
  kRetry,       // 408, 429, 5xx, no response: resend the same batch later
  kSplit,       // 413: split the batch in two halves by sequence range
  kReject,      // 400, 422, other 4xx: bisect until refused records stand alone
  kAuthFailed,  // 401, 403 (and nginx's TLS refusals): keep the batch, back off to the maximum
};

struct Verdict {
  VerdictKind kind = VerdictKind::kRetry;
  int64_t retry_after_ms = -1;  // from Retry-After (429/503), else -1: use the backoff
};

// `status` is the HTTP status, or 0 when there was no response (connection error, timeout).
// `retry_after` is the Retry-After header ("120" or an HTTP date), "" when absent.
// `now_wall_ms` resolves an HTTP date; a date in the past means retry now (0).
// One exception to the status table: a 400 (or nginx's 495/496) whose `body` is nginx's page
// for a client TLS problem ("No required SSL certificate was sent", "The SSL certificate
// error", "The plain HTTP request was sent to HTTPS port") is kAuthFailed, not kReject: the
// records are not at fault, and bisecting would dead-letter all of them.
Verdict ClassifyResponse(int status, std::string_view retry_after, int64_t now_wall_ms,
                         std::string_view body = {});

// Parses Retry-After: delay-seconds or IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT").
// Returns the delay in ms (>= 0), or -1 when malformed.
int64_t ParseRetryAfterMs(std::string_view value, int64_t now_wall_ms);

const char* VerdictName(VerdictKind kind);

}  // namespace ferry::agent

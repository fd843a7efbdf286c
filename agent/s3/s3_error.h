// S3's answers, taken apart and put in words. S3 says what went wrong in an XML body
// (<Error><Code>NoSuchBucket</Code><Message>...</Message>...</Error>); this module reads the
// parts Ferry acts on and sorts every answer into what the caller should do. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::s3 {

// One answer of S3 (or no answer).
struct S3Response {
  int status = 0;           // HTTP status; 0 when no response came
  std::string code;         // <Code> of the error body, "" if none ("SlowDown", ...)
  std::string message;      // <Message>, "" if none
  std::string server_time;  // <ServerTime> of RequestTimeTooSkewed ("2026-12-06T15:40:00Z")
  std::string date;         // the Date header, "" if absent
  std::string retry_after;  // the Retry-After header, "" if absent
  std::string error;        // why there was no response ("cannot connect to ..."), else ""
};

// Fills code, message and server_time from an S3 error body. Leaves them "" when the body is
// not an S3 error document (an HTML page of a proxy, empty, cut short).
void ParseErrorBody(std::string_view xml, S3Response* out);

enum class S3Problem {
  kNone,       // 2xx
  kRetry,      // no answer, 500, 502, 503 SlowDown, 504, 408, 429, RequestTimeout: back off
  kAuth,       // 401, 403 AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, expired token
  kClockSkew,  // 403 RequestTimeTooSkewed: the gateway's clock is wrong
  kNoBucket,   // 404 NoSuchBucket: a configuration error
  kTooLarge,   // 413, EntityTooLarge: the object is too large
  kConfig,     // 301/307 PermanentRedirect, AuthorizationHeaderMalformed (wrong region or
               // endpoint), other 4xx S3 refuses whatever the records are: not their fault
};

// What the caller does with `r`. Nothing here makes records be refused: S3 judges requests,
// never the records inside an object.
S3Problem Classify(const S3Response& r);
const char* ProblemName(S3Problem p);

// How far the gateway's clock is ahead of the store's, in seconds (negative: behind), from
// <ServerTime> or else the Date header, against `local_wall_ms`. False if neither parses.
bool ClockSkewSeconds(const S3Response& r, int64_t local_wall_ms, int64_t* skew_s);

// One sentence for the log and /status saying what happened and what to do, naming
// `where` ("bucket ferry-landing at http://127.0.0.1:9000"). Never holds a secret.
std::string Describe(const S3Response& r, std::string_view where, int64_t local_wall_ms);

// Seconds since 1970 of "2026-12-06T15:40:00Z", "20261206T154000Z" (x-amz-date) or
// "Sun, 06 Dec 2026 15:40:00 GMT" (Date); false if none of these.
bool ParseS3Time(std::string_view text, int64_t* unix_s);

}  // namespace ferry::s3

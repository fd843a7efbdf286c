// Where a batch lands in a bucket (landing-protocol.md, "Landing in object storage"):
//   s3://<bucket>/<prefix>  and the object key
//   <prefix>/gateway=<gateway>/dt=<YYYY-MM-DD>/<Idempotency-Key>.ndjson.zst
// where the date is the UTC date of the batch's first record's received_at, so every retry of a
// batch, also after a restart or past midnight, writes the same key. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::s3 {

struct S3Location {
  std::string bucket;  // 3-63 of [a-z0-9.-], starting and ending with a letter or digit
  std::string prefix;  // "" or path segments without leading or trailing '/': "landing/v1"
};

// Parses "s3://bucket" or "s3://bucket/prefix[/]". kInvalidArgument saying what is wrong (not
// s3://, a bucket name S3 does not allow, an empty segment "a//b", "." or "..").
platform::Result<S3Location> ParseS3Url(std::string_view url);

// True if `url` starts with "s3://" (the upstream or store is a bucket).
bool IsS3Url(std::string_view url);

// "<prefix>/gateway=<gateway>/dt=<date>/<key>.ndjson.zst" ("gateway=..." when prefix is "").
// The caller has checked gateway and key (landing/batch_key.h): they hold no '/'.
std::string ObjectKey(std::string_view prefix, std::string_view gateway, std::string_view date,
                      std::string_view idempotency_key);

// The partition date of a batch: the "YYYY-MM-DD" of its first record's "received_at"
// ("2026-11-21T23:59:59.999Z" -> "2026-11-21"; records stamp it in UTC). `body` is the batch as
// sent: zstd frames (`compressed`) or plain NDJSON; only the first line is decoded.
// kInvalidArgument when the body is empty, not zstd, or its first line is not a JSON object
// with a received_at string of that form.
platform::Result<std::string> BatchDate(std::string_view body, bool compressed);

// The same, from the first line of NDJSON (without or with its '\n').
platform::Result<std::string> DateOfFirstLine(std::string_view ndjson);

}  // namespace ferry::s3

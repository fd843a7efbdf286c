// What the forwarder sends batches with: a small interface, so a landing zone can be reached
// over HTTP (ferry-landing, http_uploader.h) or, later, as an S3 bucket, and so tests can hand
// the forwarder a fake that answers as scripted.
//
// An uploader sends one batch and returns what came back. It never sleeps and never retries:
// the forwarder owns retries, backoff, the breaker and the counters. Send and Probe are called
// from the forwarder's thread only; Abort may be called from any other thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "platform/status.h"

namespace ferry::agent {

struct UploadRequest {
  std::string_view idempotency_key;   // "<gateway>.<epoch>.<first_seq>-<last_seq>"
  uint32_t records = 0;               // lines in the body
  bool compressed = true;             // the body is zstd frames (else plain NDJSON)
  const std::string* body = nullptr;  // alive until Send returns
};

struct UploadResponse {
  int status = 0;           // HTTP status (or the equivalent); 0 when no answer came
  std::string body;         // the answer's body, at most kMaxResponseBody bytes of it
  std::string retry_after;  // the Retry-After header, "" if absent
  std::string error;        // why there was no answer, "" otherwise; TLS failures say what
                            // OpenSSL found and which upstream.tls key to check

  // An answer's body is read up to this many bytes and no further: a landing zone cannot make
  // the agent hold more of it in memory.
  static constexpr size_t kMaxResponseBody = 4096;
};

class Uploader {
 public:
  virtual ~Uploader() = default;

  // Sends one batch. Never throws; every failure is an UploadResponse with status 0.
  virtual UploadResponse Send(const UploadRequest& request) = 0;
  // A small request to learn whether the landing zone answers at all. Returns the HTTP status
  // (any answer), 0 when there was none.
  virtual int Probe() = 0;
  // Breaks off a Send or Probe in flight from another thread (shutdown past its grace period);
  // the interrupted call returns without an answer.
  virtual void Abort() = 0;
};

// The uploader for config.upstream: HTTP(S) POST (http_uploader.h) or, for an s3:// URL, PUT
// to a bucket (s3_uploader.h). `config` must outlive it. kInvalidArgument when upstream.url,
// its TLS settings or (s3://) its upstream.s3 settings and credentials cannot be used.
platform::Result<std::unique_ptr<Uploader>> CreateUploader(const Config& config);

}  // namespace ferry::agent

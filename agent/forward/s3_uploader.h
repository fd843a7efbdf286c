// The uploader for an s3:// upstream (README, "Landing in object storage"): PUTs each batch as
// the object <prefix>/gateway=<id>/dt=<date>/<Idempotency-Key>.ndjson.zst, signed with AWS
// Signature V4 (s3/s3_client.h), with metadata ferry-records, ferry-schema and ferry-gateway.
// The date is the UTC date of the batch's first record's received_at, read from the body, so a
// retry (also after a restart or past midnight) writes the same key: exactly once per object.
//
// S3's answers are mapped onto the landing protocol's statuses (ToUploadResponse), so the
// forwarder's verdicts apply; S3 never refuses the records themselves, so no answer of S3 makes
// the forwarder bisect a batch and dead-letter records. Not thread-safe but for Abort.
#pragma once

#include <memory>
#include <string>

#include "agent/forward/uploader.h"
#include "agent/s3/credentials.h"
#include "agent/s3/s3_client.h"
#include "agent/s3/s3_location.h"
#include "platform/clock.h"

namespace ferry::agent {

class S3Uploader : public Uploader {
 public:
  // Reads the credentials (upstream.s3.credentials_file, else AWS_* variables: the agent's
  // reload makes a new uploader, so SIGHUP re-reads them). kInvalidArgument when upstream.url
  // is not a usable s3:// URL, upstream.s3.endpoint is not http(s)://HOST[:PORT], the
  // credentials cannot be read, or upstream.compression_level is 0 (the objects are .zst).
  // `config` and `clock` must outlive the uploader.
  static platform::Result<std::unique_ptr<S3Uploader>> Create(
      const Config& config, platform::Clock& clock = platform::SystemClock());

  UploadResponse Send(const UploadRequest& request) override;
  // HEAD of the bucket.
  int Probe() override;
  // The object key of a batch: from the request alone (its key and its first record's
  // received_at), never from the clock. kInvalidArgument if the body has no such record.
  platform::Result<std::string> KeyFor(const UploadRequest& request) const;
  void Abort() override { client_->Abort(); }

 private:
  S3Uploader(const Config& config, platform::Clock& clock) : config_(config), clock_(clock) {}

  const Config& config_;
  platform::Clock& clock_;
  s3::S3Location location_;
  std::unique_ptr<s3::CredentialsSource> credentials_;
  std::unique_ptr<s3::S3Client> client_;
};

// S3's answer as the landing protocol's: 2xx is 200; no answer, 5xx, 503 SlowDown and
// RequestTimeout keep their status (retry, Retry-After honoured); refused credentials and
// RequestTimeTooSkewed are 403 (auth_failed; the body says which, and the clock's skew);
// NoSuchBucket and other configuration errors are no answer (status 0, backoff, the error says
// what to fix); EntityTooLarge is 413 (split). The body or error is one sentence saying what
// to do (s3::Describe). Pure.
UploadResponse ToUploadResponse(const s3::S3Response& r, std::string_view where,
                                int64_t now_wall_ms);

}  // namespace ferry::agent

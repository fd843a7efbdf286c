#include "agent/forward/s3_uploader.h"

namespace ferry::agent {

using platform::Status;

platform::Result<std::unique_ptr<S3Uploader>> S3Uploader::Create(const Config& config,
                                                                 platform::Clock& clock) {
  const Config::Upstream& u = config.upstream;
  auto location = s3::ParseS3Url(u.url);
  if (!location.ok())
    return Status::InvalidArgument("upstream.url: " + location.status().message());
  if (u.compression_level == 0) {
    return Status::InvalidArgument(
        "upstream.compression_level: must be 1-19 for an s3:// upstream (objects are .ndjson.zst)");
  }
  std::unique_ptr<S3Uploader> up(new S3Uploader(config, clock));
  up->location_ = std::move(location).value();
  up->credentials_ = std::make_unique<s3::CredentialsSource>(u.s3.credentials_file);
  Status st = up->credentials_->Load();
  if (!st.ok()) {
    return Status::InvalidArgument(
        (u.s3.credentials_file.empty() ? "upstream.s3: " : "upstream.s3.credentials_file: ") +
        st.message());
  }
  s3::S3ClientOptions o;
  o.bucket = up->location_.bucket;
  o.region = u.s3.region;
  o.endpoint = u.s3.endpoint;
  o.path_style = u.s3.path_style;
  o.timeout_ms = u.timeout_ms;
  o.ca_file = u.tls.ca_file;
  o.verify = u.tls.verify;
  auto client = s3::S3Client::Create(o, *up->credentials_);
  if (!client.ok()) return Status::InvalidArgument("upstream.s3: " + client.status().message());
  up->client_ = std::move(client).value();
  return up;
}

platform::Result<std::string> S3Uploader::KeyFor(const UploadRequest& req) const {
  auto date = s3::BatchDate(*req.body, req.compressed);
  if (!date.ok()) return date.status();
  return s3::ObjectKey(location_.prefix, config_.gateway.id, *date, req.idempotency_key);
}

UploadResponse S3Uploader::Send(const UploadRequest& req) {
  UploadResponse out;
  auto key = KeyFor(req);
  if (!key.ok()) {
    // Not S3's doing: the agent wrote these records. Kept and retried, never dropped.
    out.error = "cannot name the object of batch " + std::string(req.idempotency_key) + ": " +
                key.status().message();
    return out;
  }
  s3::S3Response r = client_->Put(*key, *req.body, "application/x-ndjson",
                                  {{"ferry-records", std::to_string(req.records)},
                                   {"ferry-schema", "1"},
                                   {"ferry-gateway", config_.gateway.id}});
  return ToUploadResponse(r, client_->Where(), clock_.WallMillis());
}

int S3Uploader::Probe() { return client_->HeadBucket().status; }

UploadResponse ToUploadResponse(const s3::S3Response& r, std::string_view where,
                                int64_t now_wall_ms) {
  UploadResponse out;
  std::string said = s3::Describe(r, where, now_wall_ms);
  switch (s3::Classify(r)) {
    case s3::S3Problem::kNone:
      out.status = 200;
      return out;
    case s3::S3Problem::kRetry:
      if (r.status == 0) {
        out.error = said;
        return out;
      }
      // RequestTimeout comes as a 400: a retry, not a refusal of the records.
      out.status = r.status >= 500 || r.status == 408 || r.status == 429 ? r.status : 503;
      out.retry_after = r.retry_after;
      break;
    case s3::S3Problem::kAuth:
    case s3::S3Problem::kClockSkew:
      out.status = 403;
      break;
    case s3::S3Problem::kTooLarge:
      out.status = 413;
      break;
    case s3::S3Problem::kNoBucket:
    case s3::S3Problem::kConfig:
      out.error = said;
      return out;
  }
  out.body = said.substr(0, UploadResponse::kMaxResponseBody);
  return out;
}

}  // namespace ferry::agent

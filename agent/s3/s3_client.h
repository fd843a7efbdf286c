// A small S3 client over libcurl: PUT and HEAD of one object, signed with AWS Signature
// Version 4 by libcurl itself (CURLOPT_AWS_SIGV4). The payload is signed too: the request
// carries x-amz-content-sha256 with the body's SHA-256, and x-amz-security-token when the
// credentials have a session token.
//
// Never sleeps, never retries: callers own retries and backoff. One request at a time: not
// thread-safe, except Abort(). Keeps its connection open between requests.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/s3/credentials.h"
#include "agent/s3/s3_error.h"
#include "platform/status.h"

namespace ferry::s3 {

struct S3ClientOptions {
  std::string bucket;
  std::string region = "us-east-1";
  // "http://127.0.0.1:9000", "https://s3.example.com"; "" = https://s3.<region>.amazonaws.com.
  std::string endpoint;
  // true: <endpoint>/<bucket>/<key> (MinIO, Ceph, s3rver); false: <bucket>.<endpoint host>/<key>.
  bool path_style = false;
  int64_t timeout_ms = 30'000;
  std::string ca_file;  // "" = the system's CAs
  bool verify = true;   // verify an https endpoint's certificate and name
};

class S3Client {
 public:
  // `credentials` must outlive the client. kInvalidArgument when the endpoint is not an
  // http(s) URL or the bucket cannot be put in a host name (virtual-hosted style with dots
  // over https); kInternal when libcurl cannot be set up.
  static platform::Result<std::unique_ptr<S3Client>> Create(S3ClientOptions options,
                                                            const CredentialsSource& credentials);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // PUT `body` as object `key` with user metadata (x-amz-meta-<name>: value). An existing
  // object of that key is replaced. status 200 when stored.
  S3Response Put(std::string_view key, std::string_view body, std::string_view content_type,
                 const std::vector<std::pair<std::string, std::string>>& metadata);

  // HEAD of object `key`: 200 if it exists, 404 if not (S3 sends no body with a HEAD, so a
  // 404 is read as NoSuchKey, and NoSuchBucket is not told apart: use HeadBucket).
  S3Response Head(std::string_view key);

  // HEAD of the bucket: 200 if it exists and the credentials may use it; 404 is answered as
  // code NoSuchBucket, 403 as AccessDenied.
  S3Response HeadBucket();

  // Breaks off a request in flight from another thread; it returns with status 0.
  void Abort() { abort_ = true; }

  // "bucket <name> at <endpoint>", for messages.
  std::string Where() const;

  // The URL of object `key` (each key segment percent-encoded as SigV4 wants), for tests.
  std::string ObjectUrl(std::string_view key) const;

 private:
  struct Transfer;
  S3Client(S3ClientOptions options, const CredentialsSource& credentials);
  S3Response Perform(const std::string& url, const char* method, std::string_view body,
                     const std::vector<std::string>& headers);

  const S3ClientOptions options_;
  const CredentialsSource& credentials_;
  std::string base_;    // scheme://host[:port] with the bucket in it (virtual-hosted) or not
  std::string prefix_;  // "/<bucket>" (path style) or ""
  void* curl_ = nullptr;
  std::atomic<bool> abort_{false};
};

// Percent-encodes `key` as S3's SigV4 canonical URI wants: every byte but A-Z a-z 0-9 - _ . ~
// and '/', so "gateway=gw-1" becomes "gateway%3Dgw-1". Pure.
std::string EncodeKey(std::string_view key);

}  // namespace ferry::s3

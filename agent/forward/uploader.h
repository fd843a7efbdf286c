// Sends one batch to the landing zone and returns what came back. Never sleeps, never retries:
// the forwarder owns retries, backoff and counters. Not thread-safe (one per forwarder thread);
// keeps its HTTP connection open between batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/config/config.h"
#include "platform/status.h"

namespace httplib {
class Client;
enum class Error;
}  // namespace httplib

namespace ferry::agent {

struct UploadRequest {
  std::string_view idempotency_key;
  uint32_t records = 0;
  bool compressed = true;
  const std::string* body = nullptr;
};

struct UploadResponse {
  int status = 0;           // HTTP status; 0 when no response came
  std::string body;         // the response body, cut to 4 KiB
  std::string retry_after;  // the Retry-After header, "" if absent
  std::string error;        // why there was no response, "" otherwise; TLS failures say what
                            // OpenSSL found and which upstream.tls key to check
};

class Uploader {
 public:
  // kInvalidArgument when upstream.url cannot be used.
  static platform::Result<std::unique_ptr<Uploader>> Create(const Config& config);
  ~Uploader();

  UploadResponse Send(const UploadRequest& request);
  // A small request to learn whether the landing zone answers at all: HEAD on the upstream URL.
  // Returns the HTTP status, 0 when there was no answer.
  int Probe();
  // Breaks off a request in flight from another thread (shutdown past its grace period).
  void Abort();

 private:
  Uploader(const Config& config, std::string path);
  std::string DescribeFailure(httplib::Error e, bool fresh_connection);
  const Config& config_;
  std::string path_;
  std::string origin_;
  bool https_ = false;
  std::string host_;       // for TLS's server name
  std::string host_port_;  // "host:port", "[v6]:port"
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace ferry::agent

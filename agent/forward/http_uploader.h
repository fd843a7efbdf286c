// The uploader for an HTTP(S) landing zone (landing-protocol.md): POSTs each batch to
// upstream.url with the protocol's headers, probes with HEAD, and keeps its connection open
// between batches. Not thread-safe but for Abort (see uploader.h).
#pragma once

#include <memory>
#include <string>

#include "agent/forward/uploader.h"

namespace httplib {
class Client;
enum class Error;
}  // namespace httplib

namespace ferry::agent {

class HttpUploader : public Uploader {
 public:
  // kInvalidArgument when upstream.url cannot be used or the client cannot be set up (for
  // example an unreadable upstream.tls.cert_file). `config` must outlive the uploader.
  static platform::Result<std::unique_ptr<HttpUploader>> Create(const Config& config);
  ~HttpUploader() override;

  UploadResponse Send(const UploadRequest& request) override;
  // HEAD on the upstream URL.
  int Probe() override;
  void Abort() override;

 private:
  HttpUploader(const Config& config, std::string path);
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

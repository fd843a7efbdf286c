#include "agent/forward/uploader.h"

#include <httplib.h>

namespace ferry::agent {

namespace {

constexpr size_t kMaxResponseBody = 4096;

// A sentence for logs and /status; httplib's own names ("Connection", "Read") are too terse.
std::string DescribeError(httplib::Error e, const std::string& origin) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect to " + origin;
    case httplib::Error::ConnectionTimeout:
      return "connecting to " + origin + " timed out";
    case httplib::Error::Read:
      return "no answer from " + origin + " (read failed or timed out)";
    case httplib::Error::Write:
      return "sending to " + origin + " failed";
    case httplib::Error::SSLConnection:
      return "TLS handshake with " + origin + " failed";
    case httplib::Error::SSLServerVerification:
      return "certificate of " + origin + " not trusted";
    case httplib::Error::Canceled:
      return "request to " + origin + " canceled";
    default:
      return "request to " + origin + " failed: " + httplib::to_string(e);
  }
}

}  // namespace

platform::Result<std::unique_ptr<Uploader>> Uploader::Create(const Config& config) {
  HttpUrl url;
  if (!ParseHttpUrl(config.upstream.url, &url)) {
    return platform::Status::InvalidArgument("upstream.url: not an http(s) URL: " +
                                             config.upstream.url);
  }
  bool v6 = url.host.find(':') != std::string::npos;
  std::string origin =
      url.scheme + "://" + (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  std::unique_ptr<Uploader> u(new Uploader(config, url.path));
  u->origin_ = origin;
  const TlsOptions& tls = config.upstream.tls;
  u->client_ = std::make_unique<httplib::Client>(origin, tls.cert_file, tls.key_file);
  if (!u->client_->is_valid()) {
    return platform::Status::InvalidArgument(
        "upstream: cannot set up a client for " + origin +
        (tls.cert_file.empty() ? "" : " (check upstream.tls.cert_file and key_file)"));
  }
  if (url.scheme == "https") {
    if (!tls.ca_file.empty() || !tls.ca_dir.empty()) {
      u->client_->set_ca_cert_path(tls.ca_file, tls.ca_dir);
    }
    u->client_->enable_server_certificate_verification(tls.verify);
  }
  auto timeout_s = static_cast<time_t>(config.upstream.timeout_ms / 1000);
  auto timeout_us = static_cast<time_t>((config.upstream.timeout_ms % 1000) * 1000);
  u->client_->set_connection_timeout(timeout_s, timeout_us);
  u->client_->set_read_timeout(timeout_s, timeout_us);
  u->client_->set_write_timeout(timeout_s, timeout_us);
  u->client_->set_keep_alive(true);
  // Without it, Nagle's algorithm and the peer's delayed ACK add ~40 ms to every request.
  u->client_->set_tcp_nodelay(true);
  if (!config.upstream.token.empty()) u->client_->set_bearer_token_auth(config.upstream.token);
  return u;
}

Uploader::Uploader(const Config& config, std::string path)
    : config_(config), path_(std::move(path)) {}
Uploader::~Uploader() = default;

void Uploader::Abort() { client_->stop(); }

int Uploader::Probe() {
  httplib::Result res = client_->Head(path_);
  if (!res) {
    client_->stop();
    return 0;
  }
  return res->status;
}

UploadResponse Uploader::Send(const UploadRequest& req) {
  httplib::Headers headers = {
      {"Idempotency-Key", std::string(req.idempotency_key)},
      {"Ferry-Gateway", config_.gateway.id},
      {"Ferry-Records", std::to_string(req.records)},
      {"Ferry-Schema", "1"},
  };
  if (req.compressed) headers.emplace("Content-Encoding", "zstd");
  UploadResponse out;
  httplib::Result res = client_->Post(path_, headers, *req.body, "application/x-ndjson");
  if (!res) {
    out.error = DescribeError(res.error(), origin_);
    client_->stop();  // drop a half-dead keep-alive connection
    return out;
  }
  out.status = res->status;
  out.body = res->body.substr(0, kMaxResponseBody);
  out.retry_after = res->get_header_value("Retry-After");
  return out;
}

}  // namespace ferry::agent

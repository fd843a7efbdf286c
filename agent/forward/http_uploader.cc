#include "agent/forward/http_uploader.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <algorithm>

#include "agent/forward/s3_uploader.h"
#include "agent/forward/tls_refusal.h"
#include "agent/tls/tls_error.h"

namespace ferry::agent {

namespace {

constexpr int kRefusalTimeoutS = 2;

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
    case httplib::Error::Canceled:
      return "request to " + origin + " canceled";
    default:
      return "request to " + origin + " failed: " + httplib::to_string(e);
  }
}

}  // namespace

platform::Result<std::unique_ptr<HttpUploader>> HttpUploader::Create(const Config& config) {
  HttpUrl url;
  if (!ParseHttpUrl(config.upstream.url, &url)) {
    return platform::Status::InvalidArgument("upstream.url: not an http(s) URL: " +
                                             config.upstream.url);
  }
  bool v6 = url.host.find(':') != std::string::npos;
  std::string origin =
      url.scheme + "://" + (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  std::unique_ptr<HttpUploader> u(new HttpUploader(config, url.path));
  u->origin_ = origin;
  u->https_ = url.scheme == "https";
  u->host_ = url.host;
  u->host_port_ = (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
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

HttpUploader::HttpUploader(const Config& config, std::string path)
    : config_(config), path_(std::move(path)) {}
HttpUploader::~HttpUploader() = default;

void HttpUploader::Abort() { client_->stop(); }

int HttpUploader::Probe() {
  httplib::Result res = client_->Head(path_);
  if (!res) {
    client_->stop();
    return 0;
  }
  return res->status;
}

// TLS failures get OpenSSL's reason (left in this thread's error queue) and the verify result.
std::string HttpUploader::DescribeFailure(httplib::Error e, bool fresh_connection) {
  // Plain HTTP never touches OpenSSL: its error queue would initialize libcrypto (1.3 MiB).
  std::string reason = https_ ? TakeOpenSslError() : std::string();
  if (e == httplib::Error::Write && reason.empty() && fresh_connection && https_) {
    // Maybe a refusal at the end of a TLS 1.3 handshake, whose reason nobody read.
    client_->stop();
    reason = ReadTlsRefusal(client_->ssl_context(), host_port_, host_, kRefusalTimeoutS);
  }
  TlsFailure tls;
  tls.reason = reason;
  switch (e) {
    case httplib::Error::SSLLoadingCerts:
      tls.step = TlsStep::kLoadCa;
      break;
    case httplib::Error::SSLServerVerification:
      tls.verify_result = client_->get_openssl_verify_result();
      tls.step = tls.verify_result == X509_V_OK ? TlsStep::kHostName : TlsStep::kVerify;
      break;
    case httplib::Error::SSLConnection:
      tls.step = TlsStep::kHandshake;
      break;
    case httplib::Error::Read:
    case httplib::Error::Write:
      // The server's refusal after the client's part of a TLS 1.3 handshake.
      if (reason.empty()) return DescribeError(e, origin_);
      tls.step = TlsStep::kHandshake;
      break;
    default:
      return DescribeError(e, origin_);
  }
  std::string address = "upstream " + origin_;
  return DescribeTlsFailure(tls, {"the landing zone", address, "upstream.tls"},
                            config_.upstream.tls);
}

UploadResponse HttpUploader::Send(const UploadRequest& req) {
  httplib::Headers headers = {
      {"Idempotency-Key", std::string(req.idempotency_key)},
      {"Ferry-Gateway", config_.gateway.id},
      {"Ferry-Records", std::to_string(req.records)},
      {"Ferry-Schema", "1"},
  };
  if (req.compressed) headers.emplace("Content-Encoding", "zstd");
  headers.emplace("Content-Type", "application/x-ndjson");
  UploadResponse out;
  bool fresh_connection = client_->is_socket_open() == 0;
  if (https_) ERR_clear_error();
  httplib::Request request;
  request.method = "POST";
  request.path = path_;
  request.headers = std::move(headers);
  // The body is written from the batch's own buffer, as httplib's Post with a content
  // provider does: `request.body` would be a copy, and httplib copies the request again
  // (three copies of a batch in memory at once).
  const std::string* body = req.body;
  request.content_length_ = body->size();
  // A failed write is httplib's to report (Error::Write, which DescribeFailure explains):
  // returning false here would make it Error::Canceled.
  request.content_provider_ = [body](size_t offset, size_t length, httplib::DataSink& sink) {
    sink.write(body->data() + offset, std::min(length, body->size() - offset));
    return true;
  };
  // The answer's status and headers come first; its body is kept up to the cap while it is
  // read, and reading stops there: a hostile landing zone cannot make us hold more.
  bool cut = false;
  request.response_handler = [&](const httplib::Response& r) {
    out.status = r.status;
    out.retry_after = r.get_header_value("Retry-After");
    return true;
  };
  request.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    size_t room = UploadResponse::kMaxResponseBody - out.body.size();
    out.body.append(data, std::min(n, room));
    cut = n > room;
    return !cut;
  };
  httplib::Result res = client_->send(request);
  if (!res && cut) {
    client_->stop();  // the rest of the body is left unread: this connection cannot be reused
    return out;
  }
  if (!res) {
    out = UploadResponse();
    out.error = DescribeFailure(res.error(), fresh_connection);
    client_->stop();  // drop a half-dead keep-alive connection
    return out;
  }
  out.status = res->status;
  return out;
}

platform::Result<std::unique_ptr<Uploader>> CreateUploader(const Config& config) {
  if (s3::IsS3Url(config.upstream.url)) {
    auto bucket = S3Uploader::Create(config);
    if (!bucket.ok()) return bucket.status();
    return std::unique_ptr<Uploader>(std::move(*bucket));
  }
  platform::Result<std::unique_ptr<HttpUploader>> http = HttpUploader::Create(config);
  if (!http.ok()) return http.status();
  return std::unique_ptr<Uploader>(std::move(*http));
}

}  // namespace ferry::agent

#include "agent/landing/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <exception>
#include <thread>

#include "platform/log.h"

namespace ferry::landing {
namespace {

Request ToRequest(const httplib::Request& in) {
  Request out;
  out.method = in.method;
  out.path = in.path;
  out.headers.reserve(in.headers.size());
  for (const auto& [name, value] : in.headers) out.headers.emplace_back(name, value);
  out.body = in.body;
  return out;
}

void ToResponse(const Response& in, httplib::Response& out) {
  out.status = in.status;
  out.set_content(in.body, in.content_type);
  if (in.retry_after_seconds > 0) {
    out.set_header("Retry-After", std::to_string(in.retry_after_seconds));
  }
}

// SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which lets a second process bind a port
// that is in use instead of failing to start.
void SocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

std::unique_ptr<httplib::Server> MakeServer(const TlsFiles& tls) {
  if (!tls.enabled()) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(
      [tls](SSL_CTX& ctx) { return ConfigureServerContext(ctx, tls); });
}

}  // namespace

HttpServer::HttpServer(const Receiver& receiver, uint64_t max_body, const TlsFiles& tls)
    : receiver_(receiver), server_(MakeServer(tls)) {
  httplib::Server& s = *server_;
  s.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  s.set_socket_options(SocketOptions);
  s.set_payload_max_length(max_body);
  s.set_read_timeout(30, 0);  // a large body over a slow uplink
  s.set_write_timeout(30, 0);
  s.set_keep_alive_max_count(1000);
  // Headers and body go out in two writes: without it, Nagle's algorithm and the client's
  // delayed ACK hold the body back ~40 ms per request.
  s.set_tcp_nodelay(true);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    ToResponse(receiver_.Handle(ToRequest(req)), res);
  };
  const std::string any = ".*";
  s.Get(any, handler);
  s.Post(any, handler);
  s.Put(any, handler);
  s.Patch(any, handler);
  s.Delete(any, handler);
  // Errors httplib answers itself (413 for a body over max_body, 400 for a malformed request)
  // get a JSON body like every other error; bodies the receiver wrote stay as they are.
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = res.status == 413
                              ? "request body too large"
                              : "request refused (HTTP " + std::to_string(res.status) + ")";
    res.set_content("{\"error\":\"" + message + "\"}", "application/json");
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("{\"error\":\"internal error\"}", "application/json");
  });
}

HttpServer::~HttpServer() = default;

platform::Result<int> HttpServer::Bind(const std::string& host, int port) {
  if (!server_->is_valid()) {
    return platform::Status::InvalidArgument(
        "TLS: cannot load the files of --tls-cert, --tls-key or --tls-client-ca");
  }
  int bound = port;
  bool ok = true;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    ok = bound > 0;
  } else {
    ok = server_->bind_to_port(host, port);
  }
  if (!ok) {
    return platform::Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port) +
                                         " (address in use, not local, or not permitted)");
  }
  return bound;
}

platform::Status HttpServer::Serve() {
  serving_ = true;
  if (stopping_) {
    serving_ = false;
    return platform::Status::Ok();
  }
  bool ok = server_->listen_after_bind();
  serving_ = false;
  if (!ok && !stopping_) return platform::Status::IoError("HTTP server stopped accepting");
  return platform::Status::Ok();
}

void HttpServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  stopping_ = true;
  // Serve may be about to start its loop, and httplib's stop() does nothing until the loop runs
  // and must not be called twice while it runs: wait for the loop, stop it once.
  bool stop_sent = false;
  while (serving_) {
    if (!stop_sent && server_->is_running()) {
      server_->stop();
      stop_sent = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ferry::landing

// The HTTP side of ferry-landing: a cpp-httplib server (HTTPS with TLS files) with a small thread
// pool that hands every request to a Receiver. Usage: Bind, then Serve in a thread, then Stop
// from another thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "agent/landing/receiver.h"
#include "agent/landing/tls.h"
#include "platform/status.h"

namespace httplib {
class Server;
}

namespace ferry::landing {

class HttpServer {
 public:
  static constexpr int kThreads = 4;

  // `receiver` must outlive the server. Bodies larger than `max_body` are refused with 413
  // before they reach the receiver. With `tls.enabled()` it serves HTTPS (check the files with
  // CheckTlsFiles first: a file that cannot be loaded makes Bind fail).
  HttpServer(const Receiver& receiver, uint64_t max_body, const TlsFiles& tls = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port; port 0 picks a free port. Returns the port bound.
  // kUnavailable if the address is in use, not local or not permitted; kInvalidArgument if the
  // TLS files could not be loaded.
  platform::Result<int> Bind(const std::string& host, int port);

  // Accepts and answers requests until Stop. Blocks; call after a successful Bind.
  // kIoError if the accept loop failed.
  platform::Status Serve();

  // Makes Serve return after in-flight requests are answered. Thread-safe; may be called
  // before Serve has started (Serve then returns at once) and more than once.
  void Stop();

 private:
  const Receiver& receiver_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> serving_{false};   // Serve is running or about to
  std::atomic<bool> stopping_{false};  // Stop was called
  std::mutex stop_mu_;                 // one Stop at a time
};

}  // namespace ferry::landing

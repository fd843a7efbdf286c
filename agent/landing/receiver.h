// The landing protocol's request handling, without sockets: takes a request (method, path,
// headers, body), answers a status and a JSON body. The HTTP server (http_server.h) is a thin
// adapter around it; unit tests call it directly.
//
//   POST <any path>  a batch: checked, decompressed with a cap, every line checked, stored once
//   GET  /healthz    200 "ok"
//   anything else    404
//
// Answers: 200 {"stored":true,"records":N} or {"duplicate":true}; 400 bad headers, key, count or
// zstd; 401 missing or wrong token; 413 body or decompressed content too large; 422 a line that is
// not a JSON object with a string "id" (the body names the line); 503 with Retry-After when the
// disk is full or the bucket is unreachable or asks to slow down; 500 any other failure to
// store. Every error body is {"error":"..."}.
//
// A batch is stored in the partition of its first record's received_at (UTC date), so a retry
// after midnight finds the same name; a first record without a received_at in RFC 3339 UTC
// form (not a Ferry agent's) is stored under the date of receipt, and the log says so.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/landing/store.h"
#include "platform/clock.h"

namespace ferry::landing {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // "/v1/batches"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // not owned: must outlive the call to Handle

  // The value of the first header named `name` (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  int retry_after_seconds = 0;  // > 0: send a Retry-After header
};

struct ReceiverOptions {
  uint64_t max_body = 64ull << 20;           // bytes of request body; more is 413
  uint64_t max_decompressed = 256ull << 20;  // bytes of decompressed NDJSON; more is 413
  std::string token;                         // non-empty: required as "Authorization: Bearer"
  int compression_level = 3;                 // zstd level for bodies that arrive uncompressed
  int retry_after_seconds = 30;              // sent with 503 when the store cannot take it now
};

class Receiver {
 public:
  // `store` and `clock` (the date of receipt, for batches without received_at) must outlive
  // the receiver.
  Receiver(Store& store, ReceiverOptions options, platform::Clock& clock = platform::SystemClock());

  // Answers one request. Thread-safe: the HTTP server calls it from several threads. Never
  // throws; an unexpected failure (even out of memory) is a 500.
  Response Handle(const Request& request) const noexcept;

 private:
  Response HandleBatch(const Request& request) const;

  Store& store_;
  const ReceiverOptions options_;
  platform::Clock& clock_;
};

// True if `a` equals `b`, in a time that depends only on the length of `b` (the secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ferry::landing

#include "agent/landing/receiver.h"

#include <strings.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "agent/landing/batch_store.h"
#include "agent/landing/body_codec.h"
#include "agent/landing/ndjson_check.h"
#include "agent/s3/s3_location.h"
#include "platform/log.h"

namespace ferry::landing {
namespace {

constexpr size_t kKeepBufferBytes = 16u << 20;  // per-thread buffers above this are freed

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response Json(int status, const nlohmann::json& body) {
  return {status, "application/json", Dump(body)};
}

Response Error(int status, std::string_view message) {
  return Json(status, {{"error", std::string(message)}});
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The headers of a batch request, checked.
struct BatchHeaders {
  BatchKey key;
  uint64_t records = 0;
  bool compressed = false;
};

std::optional<Response> CheckAuth(const Request& req, const std::string& token) {
  if (token.empty()) return std::nullopt;
  const std::string* auth = req.Header("Authorization");
  if (auth == nullptr) return Error(401, "Authorization: Bearer token required");
  std::string_view value = Trim(*auth);
  if (value.size() < 7 || !EqualsNoCase(value.substr(0, 7), "Bearer ")) {
    return Error(401, "Authorization: Bearer token required");
  }
  if (!ConstantTimeEquals(Trim(value.substr(7)), token)) return Error(401, "wrong token");
  return std::nullopt;
}

std::optional<Response> CheckContentHeaders(const Request& req, bool* compressed) {
  const std::string* type = req.Header("Content-Type");
  std::string_view media =
      type == nullptr ? "" : Trim(std::string_view(*type).substr(0, type->find(';')));
  if (!EqualsNoCase(media, "application/x-ndjson")) {
    return Error(400, "Content-Type must be application/x-ndjson");
  }
  const std::string* encoding = req.Header("Content-Encoding");
  *compressed = encoding != nullptr;
  if (encoding != nullptr && !EqualsNoCase(Trim(*encoding), "zstd")) {
    return Error(400, "Content-Encoding must be zstd or absent");
  }
  return std::nullopt;
}

std::optional<Response> CheckBatchHeaders(const Request& req, BatchHeaders* out) {
  if (auto bad = CheckContentHeaders(req, &out->compressed)) return bad;
  const std::string* key = req.Header("Idempotency-Key");
  if (key == nullptr) return Error(400, "Idempotency-Key header missing");
  auto parsed = ParseBatchKey(*key);
  if (!parsed.ok()) return Error(400, "Idempotency-Key: " + parsed.status().message());
  out->key = std::move(parsed).value();
  const std::string* gateway = req.Header("Ferry-Gateway");
  if (gateway == nullptr) return Error(400, "Ferry-Gateway header missing");
  if (!IsValidGateway(*gateway)) return Error(400, "Ferry-Gateway must be 1-64 of [A-Za-z0-9_-]");
  if (*gateway != out->key.gateway) {
    return Error(400, "Ferry-Gateway does not match the gateway of the Idempotency-Key");
  }
  const std::string* schema = req.Header("Ferry-Schema");
  if (schema == nullptr || Trim(*schema) != "1") return Error(400, "Ferry-Schema must be 1");
  const std::string* records = req.Header("Ferry-Records");
  if (records == nullptr || !ParseDecimal(Trim(*records), &out->records) || out->records == 0) {
    return Error(400, "Ferry-Records must be a positive integer");
  }
  // Each record has its own sequence number inside the key's range.
  if (out->records - 1 > out->key.last - out->key.first) {
    return Error(400, "Ferry-Records is larger than the Idempotency-Key's sequence range");
  }
  return std::nullopt;
}

// Decompresses (if needed) and checks the lines. On success *ndjson views the content.
std::optional<Response> CheckBody(const Request& req, const BatchHeaders& h,
                                  const ReceiverOptions& opt, Decompressor& dec,
                                  std::string_view* ndjson) {
  if (req.body.size() > opt.max_body) {
    return Error(413, "body larger than " + std::to_string(opt.max_body) + " bytes");
  }
  *ndjson = req.body;
  if (h.compressed) {
    std::string why;
    switch (dec.Decompress(req.body, opt.max_decompressed, ndjson, &why)) {
      case Decompressor::Outcome::kOk:
        break;
      case Decompressor::Outcome::kCorrupt:
        return Error(400, "body is not valid zstd: " + why);
      case Decompressor::Outcome::kTooLarge:
        return Error(413, "decompressed body larger than " + std::to_string(opt.max_decompressed) +
                              " bytes");
    }
  }
  NdjsonCheck check = CheckNdjson(*ndjson);
  if (!check.ok) {
    return Json(422, {{"error", "line " + std::to_string(check.lines) + ": " + check.reason},
                      {"line", check.lines}});
  }
  if (check.lines != h.records) {
    return Error(400, "Ferry-Records says " + std::to_string(h.records) + " but the body holds " +
                          std::to_string(check.lines) + " lines");
  }
  return std::nullopt;
}

struct ThreadBuffers {
  Decompressor decompressor;
  Compressor compressor;
  std::string compressed;
};

ThreadBuffers& Buffers() {
  thread_local ThreadBuffers buffers;
  return buffers;
}

}  // namespace

const std::string* Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsNoCase(k, name)) return &v;
  }
  return nullptr;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= x ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

Receiver::Receiver(Store& store, ReceiverOptions options, platform::Clock& clock)
    : store_(store), options_(std::move(options)), clock_(clock) {}

Response Receiver::Handle(const Request& request) const noexcept {
  try {
    if (request.method == "POST") return HandleBatch(request);
    if ((request.method == "GET" || request.method == "HEAD") && request.path == "/healthz") {
      return {200, "text/plain", "ok\n"};
    }
    return Error(404, "not found: " + request.method + " " + request.path);
  } catch (const std::exception& e) {
    platform::LogError("landing", std::string("request failed: ") + e.what());
  } catch (...) {
    platform::LogError("landing", "request failed: unknown exception");
  }
  return Error(500, "internal error");
}

Response Receiver::HandleBatch(const Request& req) const {
  if (auto bad = CheckAuth(req, options_.token)) return *bad;
  BatchHeaders h;
  if (auto bad = CheckBatchHeaders(req, &h)) return *bad;
  ThreadBuffers& buf = Buffers();
  std::string_view ndjson;
  std::optional<Response> bad = CheckBody(req, h, options_, buf.decompressor, &ndjson);
  buf.decompressor.Trim(kKeepBufferBytes);
  if (bad) {
    platform::LogWarn(
        "landing", "refused " + h.key.text + ": " + std::to_string(bad->status) + " " + bad->body);
    return *bad;
  }
  auto date = s3::DateOfFirstLine(ndjson);
  if (!date.ok()) {
    std::string why = date.status().message();
    date = BatchStore::FormatDate(clock_.WallMillis());
    platform::LogWarn("landing",
                      h.key.text + ": " + why + "; stored under the date of receipt, " + *date);
  }
  std::string_view data = req.body;
  if (!h.compressed) {
    platform::Status st =
        buf.compressor.Compress(ndjson, options_.compression_level, &buf.compressed);
    if (!st.ok()) return Error(500, st.ToString());
    data = buf.compressed;
  }
  std::string path;
  auto outcome = store_.Put(h.key, *date, data, h.records, &path);
  if (buf.compressed.capacity() > kKeepBufferBytes) std::string().swap(buf.compressed);
  if (!outcome.ok()) {
    platform::LogError("landing", "storing " + h.key.text + ": " + outcome.status().ToString());
    platform::Code code = outcome.status().code();
    if (code != platform::Code::kNoSpace && code != platform::Code::kUnavailable) {
      return Error(500, "storing failed");
    }
    Response r = Error(503, code == platform::Code::kNoSpace ? "disk full" : "store unavailable");
    r.retry_after_seconds = options_.retry_after_seconds;
    return r;
  }
  if (*outcome == Store::Outcome::kDuplicate) {
    platform::LogInfo("landing", "duplicate " + h.key.text + ": already stored");
    return Json(200, {{"duplicate", true}});
  }
  platform::LogInfo("landing", "stored " + h.key.text + ": " + std::to_string(h.records) +
                                   " records, " + std::to_string(data.size()) + " bytes, " + path);
  return Json(200, {{"stored", true}, {"records", h.records}});
}

}  // namespace ferry::landing

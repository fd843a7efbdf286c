#include "agent/s3/s3_client.h"

#include <curl/curl.h>
#include <openssl/sha.h>

#include <mutex>

#include "agent/s3/curl_loader.h"

namespace ferry::s3 {
namespace {

using platform::Status;

constexpr size_t kMaxBody = 16 * 1024;  // of an error answer; S3's are under 1 KiB

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof digest);
}

std::string_view TrimHeader(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool HeaderIs(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

// What one request collects from libcurl's callbacks.
struct S3Client::Transfer {
  S3Response response;
  std::string body;
  const std::atomic<bool>* abort = nullptr;

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    size_t room = kMaxBody - std::min(kMaxBody, t->body.size());
    t->body.append(data, std::min(room, size * n));
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view line(data, size * n);
    if (HeaderIs(line, "date")) t->response.date = TrimHeader(line.substr(5));
    if (HeaderIs(line, "retry-after")) t->response.retry_after = TrimHeader(line.substr(12));
    return size * n;
  }
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<Transfer*>(self)->abort->load() ? 1 : 0;
  }
};

std::string EncodeKey(std::string_view key) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size() + 16);
  for (unsigned char c : key) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

S3Client::S3Client(S3ClientOptions options, const CredentialsSource& credentials)
    : options_(std::move(options)), credentials_(credentials) {}

S3Client::~S3Client() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

platform::Result<std::unique_ptr<S3Client>> S3Client::Create(S3ClientOptions o,
                                                             const CredentialsSource& creds) {
  std::string endpoint =
      o.endpoint.empty() ? "https://s3." + o.region + ".amazonaws.com" : o.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  size_t sep = endpoint.find("://");
  std::string scheme = sep == std::string::npos ? "" : endpoint.substr(0, sep);
  std::string host_port = sep == std::string::npos ? "" : endpoint.substr(sep + 3);
  if ((scheme != "http" && scheme != "https") || host_port.empty() ||
      host_port.find_first_of("/?#@ ") != std::string::npos) {
    return Status::InvalidArgument("S3 endpoint must be http(s)://HOST[:PORT], got '" + o.endpoint +
                                   "'");
  }
  if (!o.path_style && scheme == "https" && o.bucket.find('.') != std::string::npos) {
    return Status::InvalidArgument("bucket '" + o.bucket +
                                   "' has dots, which break TLS in a virtual-hosted name: use "
                                   "path_style");
  }
  FERRY_RETURN_IF_ERROR(LoadCurl());
  GlobalInit();
  std::unique_ptr<S3Client> c(new S3Client(o, creds));
  c->base_ = o.path_style ? endpoint : scheme + "://" + o.bucket + "." + host_port;
  c->prefix_ = o.path_style ? "/" + o.bucket : "";
  c->curl_ = curl_easy_init();
  if (c->curl_ == nullptr) return Status::Internal("libcurl: curl_easy_init failed");
  return c;
}

std::string S3Client::Where() const {
  return "bucket " + options_.bucket + " at " +
         (options_.endpoint.empty() ? "s3." + options_.region + ".amazonaws.com"
                                    : options_.endpoint);
}

std::string S3Client::ObjectUrl(std::string_view key) const {
  return base_ + prefix_ + "/" + EncodeKey(key);
}

S3Response S3Client::Put(std::string_view key, std::string_view body, std::string_view content_type,
                         const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::vector<std::string> headers = {"Content-Type: " + std::string(content_type),
                                      "x-amz-content-sha256: " + Sha256Hex(body)};
  for (const auto& [name, value] : metadata) headers.push_back("x-amz-meta-" + name + ": " + value);
  return Perform(ObjectUrl(key), "PUT", body, headers);
}

S3Response S3Client::Head(std::string_view key) {
  return Perform(ObjectUrl(key), "HEAD", {}, {"x-amz-content-sha256: " + Sha256Hex("")});
}

S3Response S3Client::HeadBucket() {
  S3Response r =
      Perform(base_ + prefix_ + "/", "HEAD", {}, {"x-amz-content-sha256: " + Sha256Hex("")});
  if (r.code.empty() && r.status == 404) r.code = "NoSuchBucket";
  if (r.code.empty() && r.status == 403) r.code = "AccessDenied";
  return r;
}

S3Response S3Client::Perform(const std::string& url, const char* method, std::string_view body,
                             const std::vector<std::string>& extra) {
  CURL* curl = static_cast<CURL*>(curl_);
  Credentials cred = credentials_.Get();
  Transfer t;
  t.abort = &abort_;
  abort_ = false;
  curl_slist* headers = nullptr;
  // Every header in this list is signed, and libcurl 7.88 (Debian 12) signs a removal
  // directive such as "Expect:" as an empty header that is never sent: a store that verifies
  // signatures (Ceph's RADOS Gateway, AWS) then answers 403 SignatureDoesNotMatch to every
  // PUT. So nothing but real headers here; libcurl adds "Expect: 100-continue" (unsigned) to
  // bodies over 1 MiB only, and S3 stores answer it at once.
  for (const std::string& h : extra) headers = curl_slist_append(headers, h.c_str());
  std::string token = "x-amz-security-token: " + cred.session_token;
  if (!cred.session_token.empty()) headers = curl_slist_append(headers, token.c_str());
  std::string sigv4 = "aws:amz:" + options_.region + ":s3";

  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, cred.access_key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, cred.secret_access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Transfer::OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify ? 2L : 0L);
  if (std::string_view(method) == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  // The secret was copied into the handle; drop it there too until the next request.
  curl_easy_setopt(curl, CURLOPT_PASSWORD, "");
  if (rc != CURLE_OK) {
    t.response.error = std::string(method) + " " + Where() + ": " +
                       (error[0] != 0 ? error : curl_easy_strerror(rc));
    return t.response;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  t.response.status = static_cast<int>(status);
  ParseErrorBody(t.body, &t.response);
  if (t.response.code.empty() && status == 404 && std::string_view(method) == "HEAD") {
    t.response.code = "NoSuchKey";
  }
  return t.response;
}

}  // namespace ferry::s3

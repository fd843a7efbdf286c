#include "agent/status/request_guard.h"

#include <algorithm>

#include "agent/config/config.h"

namespace ferry::agent {

namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// An IP literal or localhost: a name that no one else's DNS can resolve to this server.
bool IsAddressHost(const std::string& host) {
  if (host == "localhost") return true;
  if (host.find(':') != std::string::npos) return true;  // IPv6 (brackets taken off)
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// "host:port" of a Host header ("127.0.0.1:7070", "[::1]:7070"); the port defaults to 80.
bool SplitHostHeader(std::string_view text, std::string* host, int* port) {
  if (SplitHostPort(text, host, port)) return true;
  if (text.empty() || text.find(':') != std::string_view::npos) return false;
  *host = std::string(text);
  *port = 80;
  return true;
}

std::string RefuseCrossSite(const ChangeRequest& r) {
  if (r.origin.empty() && r.sec_fetch_site.empty()) return "";  // not a browser
  const char* advice = ": use the status page itself, or ferry's command line";
  if (!r.sec_fetch_site.empty() && r.sec_fetch_site != "same-origin") {
    return std::string("refused a cross-site request (Sec-Fetch-Site: ") +
           std::string(r.sec_fetch_site) + ")" + advice;
  }
  std::string host;
  int port = 0;
  if (!SplitHostHeader(r.host, &host, &port) || !IsAddressHost(host)) {
    return "refused a browser request for host '" + std::string(r.host) +
           "': open the status page by address (http://127.0.0.1:PORT/)";
  }
  if (!r.origin.empty() && r.origin != "http://" + std::string(r.host)) {
    return "refused a request from another origin (" + std::string(r.origin) + ")" + advice;
  }
  if (r.page_header != "page") {
    return std::string("refused a browser request without the ") + kPageHeader + " header" + advice;
  }
  return "";
}

}  // namespace

std::string RefuseChange(const ChangeRequest& r, std::string_view listen, std::string_view token) {
  if (std::string why = RefuseCrossSite(r); !why.empty()) return why;
  std::string host;
  int port = 0;
  SplitHostPort(listen, &host, &port);
  if (IsLoopback(host)) return "";
  if (token.empty()) {
    return "the status server listens beyond loopback: set status.token to allow changes";
  }
  std::string expect = "Bearer " + std::string(token);
  // Constant-time comparison: the token is a secret.
  const std::string_view& got = r.authorization;
  unsigned diff = got.size() != expect.size();
  for (size_t i = 0; i < std::min(got.size(), expect.size()); ++i) {
    diff |= static_cast<unsigned char>(got[i] ^ expect[i]);
  }
  return diff == 0 ? "" : "missing or wrong bearer token (status.token)";
}

}  // namespace ferry::agent

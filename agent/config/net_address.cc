// Network addresses in the config: status.listen and upstream.url.
#include <string>
#include <string_view>

#include "agent/config/config.h"

namespace ferry::agent {
namespace {

bool ParsePort(std::string_view text, int min, int* port) {
  if (text.empty() || text.size() > 5) return false;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < min || n > 65535) return false;
  *port = n;
  return true;
}

bool HasSpaceOrControl(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Splits "host:port" or "[v6]:port"; a missing ":port" is allowed when `default_port` > 0.
bool SplitAuthority(std::string_view text, int min_port, int default_port, std::string* host,
                    int* port) {
  std::string_view name = text;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    name = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    has_port = !rest.empty();
    if (has_port) port_text = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      name = text.substr(0, colon);
      port_text = text.substr(colon + 1);
      has_port = true;
      if (name.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets
    }
  }
  if (name.empty() || HasSpaceOrControl(name)) return false;
  int n = default_port;
  if (has_port ? !ParsePort(port_text, min_port, &n) : default_port <= 0) return false;
  *host = std::string(name);
  *port = n;
  return true;
}

}  // namespace

bool SplitHostPort(std::string_view text, std::string* host, int* port) {
  return SplitAuthority(text, /*min_port=*/0, /*default_port=*/0, host, port);
}

bool ParseHttpUrl(std::string_view text, HttpUrl* url) {
  HttpUrl out;
  if (text.starts_with("http://")) {
    out.scheme = "http";
  } else if (text.starts_with("https://")) {
    out.scheme = "https";
  } else {
    return false;
  }
  if (HasSpaceOrControl(text) || text.find('#') != std::string_view::npos) return false;
  std::string_view rest = text.substr(out.scheme.size() + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) return false;
  int default_port = out.scheme == "https" ? 443 : 80;
  if (!SplitAuthority(authority, /*min_port=*/1, default_port, &out.host, &out.port)) {
    return false;
  }
  out.path = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (out.path.front() == '?') out.path.insert(0, "/");
  *url = std::move(out);
  return true;
}

}  // namespace ferry::agent

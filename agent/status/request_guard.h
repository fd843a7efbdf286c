// Which requests may change anything on the status server (replay, purge, reload, log level).
// Two guards, both pure functions so tests check them without a server:
// - the bearer token (status.token) when the server listens beyond loopback;
// - cross-site requests: a request a browser makes (it carries Origin or Sec-Fetch-Site) must
//   come from the status page itself: same origin, a Host that is an address or "localhost"
//   (not a name an attacker's DNS can point here), and the header kPageHeader, which a page of
//   another origin cannot send without a CORS preflight that this server never grants. So a
//   web page the operator visits elsewhere cannot make the browser replay or purge. Programs
//   (ferry's CLI, curl, scripts) send no Origin and are not affected.
#pragma once

#include <string>
#include <string_view>

namespace ferry::agent {

// The header the status page sends with every change it asks for, with the value "page".
inline constexpr const char* kPageHeader = "X-Ferry-Request";

struct ChangeRequest {
  std::string_view authorization;   // Authorization header
  std::string_view origin;          // Origin header, "" when absent
  std::string_view sec_fetch_site;  // Sec-Fetch-Site header, "" when absent
  std::string_view host;            // Host header
  std::string_view page_header;     // kPageHeader's value
};

// "" when the request may change something, else why not (for a 403 answer). `listen` is
// status.listen, `token` status.token.
std::string RefuseChange(const ChangeRequest& r, std::string_view listen, std::string_view token);

}  // namespace ferry::agent

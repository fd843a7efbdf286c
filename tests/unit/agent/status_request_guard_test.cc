// The status server refuses changes from other sites (agent/status/request_guard.h).
#include "agent/status/request_guard.h"

#include <doctest/doctest.h>

using namespace ferry::agent;

namespace {
constexpr const char* kLoopback = "127.0.0.1:7070";
}

TEST_CASE("programs without Origin may change things on loopback, as before") {
  ChangeRequest r;
  r.host = "127.0.0.1:7070";
  CHECK(RefuseChange(r, kLoopback, "").empty());
}

TEST_CASE("the status page itself may change things") {
  ChangeRequest r;
  r.host = "127.0.0.1:7070";
  r.origin = "http://127.0.0.1:7070";
  r.sec_fetch_site = "same-origin";
  r.page_header = "page";
  CHECK(RefuseChange(r, kLoopback, "").empty());
  r.host = "localhost:7070";
  r.origin = "http://localhost:7070";
  CHECK(RefuseChange(r, kLoopback, "").empty());
}

TEST_CASE("a page of another site cannot make the browser replay or purge") {
  ChangeRequest r;
  r.host = "127.0.0.1:7070";
  r.origin = "http://evil.example";
  r.sec_fetch_site = "cross-site";
  CHECK(RefuseChange(r, kLoopback, "").find("cross-site") != std::string::npos);
  // An old browser without Sec-Fetch-Site: the origin gives it away.
  r.sec_fetch_site = "";
  CHECK(RefuseChange(r, kLoopback, "").find("another origin") != std::string::npos);
  // Same origin but without the page's header: a form or a no-cors fetch cannot add it.
  r.origin = "http://127.0.0.1:7070";
  CHECK(RefuseChange(r, kLoopback, "").find("X-Ferry-Request") != std::string::npos);
}

TEST_CASE("DNS rebinding: a browser request for a host name is refused") {
  ChangeRequest r;
  r.host = "rebind.evil.example:7070";
  r.origin = "http://rebind.evil.example:7070";
  r.sec_fetch_site = "same-origin";
  r.page_header = "page";
  CHECK(RefuseChange(r, kLoopback, "").find("by address") != std::string::npos);
}

TEST_CASE("beyond loopback the token is required, from the page too") {
  ChangeRequest r;
  r.host = "10.0.0.5:7070";
  CHECK(RefuseChange(r, "0.0.0.0:7070", "").find("status.token") != std::string::npos);
  CHECK(RefuseChange(r, "0.0.0.0:7070", "s3cret").find("bearer") != std::string::npos);
  r.authorization = "Bearer s3cret";
  CHECK(RefuseChange(r, "0.0.0.0:7070", "s3cret").empty());
  r.origin = "http://10.0.0.5:7070";
  r.page_header = "page";
  CHECK(RefuseChange(r, "0.0.0.0:7070", "s3cret").empty());
  r.authorization = "Bearer s3cre";
  CHECK_FALSE(RefuseChange(r, "0.0.0.0:7070", "s3cret").empty());
}

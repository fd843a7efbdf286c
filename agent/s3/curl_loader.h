// libcurl, loaded on first use instead of at start: only an S3 upstream or bucket store needs
// it, and linking it maps its whole dependency tree (GnuTLS, Kerberos, LDAP, nghttp2, ...) and
// runs their constructors in every ferry that starts, about 4 MiB of resident pages on a
// gateway that never talks to S3.
//
// curl_loader.cc defines the few libcurl functions the S3 client calls (curl_easy_init,
// curl_easy_setopt, ...) as forwarders into "libcurl.so.4", loaded with dlopen the first time
// any of them is called; callers include <curl/curl.h> and call them as usual. When the
// library cannot be loaded they fail as libcurl would (CURLE_FAILED_INIT, a null handle).
// Thread-safe.
#pragma once

#include "platform/status.h"

namespace ferry::s3 {

// Loads libcurl if it is not loaded yet. Errors: kUnavailable naming the library and why
// (e.g. it is not installed: Debian's package is libcurl4).
platform::Status LoadCurl();

}  // namespace ferry::s3

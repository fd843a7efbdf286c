// Reaching a running agent's status server from the command line (`ferry status`,
// `ferry dead-letters`). Internal to agent/status (includes httplib).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

namespace ferry::agent {

// "http://HOST:PORT" of any URL the operator may paste: the status page's, "/status",
// "/metrics" or none at all, with or without "http://" (issue 14, item 4).
std::string StatusBaseUrl(const std::string& url);

// A client of StatusBaseUrl(url) with short connect and the given read timeouts.
std::unique_ptr<httplib::Client> StatusClient(const std::string& url, int read_timeout_s,
                                              const std::string& token = "");

// "cannot reach http://127.0.0.1:7070: connection refused (nothing listens there)\nIs ferry
// running? ..." for a request that got no answer.
std::string Unreachable(const std::string& url, httplib::Error e);

}  // namespace ferry::agent

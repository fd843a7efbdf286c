#include "agent/status/status_client.h"

namespace ferry::agent {

std::string StatusBaseUrl(const std::string& url) {
  std::string u = url;
  if (u.find("://") == std::string::npos) u = "http://" + u;
  size_t host = u.find("://") + 3;
  size_t path = u.find('/', host);
  return path == std::string::npos ? u : u.substr(0, path);
}

std::unique_ptr<httplib::Client> StatusClient(const std::string& url, int read_timeout_s,
                                              const std::string& token) {
  auto client = std::make_unique<httplib::Client>(StatusBaseUrl(url));
  client->set_connection_timeout(3, 0);
  client->set_read_timeout(read_timeout_s, 0);
  if (!token.empty()) client->set_bearer_token_auth(token);
  return client;
}

std::string Unreachable(const std::string& url, httplib::Error e) {
  std::string why;
  switch (e) {
    case httplib::Error::Connection:
      why = "connection refused or no route (nothing listens there?)";
      break;
    case httplib::Error::ConnectionTimeout:
      why = "no answer to the connection within 3 s";
      break;
    case httplib::Error::Read:
      why = "the connection broke while reading the answer";
      break;
    default:
      why = httplib::to_string(e);
  }
  return "cannot reach " + StatusBaseUrl(url) + ": " + why +
         "\nIs ferry running? Its status address is status.listen in the config "
         "(--url HOST:PORT or --config FILE).\n";
}

}  // namespace ferry::agent

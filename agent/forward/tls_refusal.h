// Why a server refused this client in a TLS 1.3 handshake. In TLS 1.3 the client's part of the
// handshake is over before the server has checked the client's certificate; the server's
// refusal (an alert, then a reset) makes the client's next write fail, and the alert, the only
// record of the reason, is read by nobody. This connects once more and reads it.
#pragma once

#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace ferry::agent {

// Connects to `host_port` ("10.0.0.5:8443", "[::1]:443"), completes a handshake with `ctx`
// (the client's own context: its CAs and client certificate; the server is not verified, and
// nothing is sent), and reads until the server sends something, closes, or about `timeout_s`
// seconds pass. Returns OpenSSL's reason for a refusal ("tlsv13 alert certificate required"),
// or "" when the server refused nothing, or could not be reached. Blocks; clears this thread's
// OpenSSL error queue.
std::string ReadTlsRefusal(SSL_CTX* ctx, const std::string& host_port, const std::string& sni,
                           int timeout_s);

}  // namespace ferry::agent

// TLS for ferry-landing: checking the certificate, key and client CA files given on the command
// line, and setting up the OpenSSL context of the HTTPS server from them.
#pragma once

#include <string>

#include "platform/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace ferry::landing {

// The files of --tls-cert, --tls-key and --tls-client-ca (PEM). `cert` empty: plain HTTP.
struct TlsFiles {
  std::string cert;       // the server certificate, then any intermediates
  std::string key;        // its private key, unencrypted
  std::string client_ca;  // "" = no client certificate asked for; else required and verified

  bool enabled() const { return !cert.empty(); }
};

// Whether the files can serve TLS: each readable and PEM, the key the one of the certificate,
// the client CA file holding at least one certificate. kNotFound (a file missing), kIoError
// (unreadable), kInvalidArgument (not PEM, key and certificate not a pair); the message is one
// line naming the option, the file and what to do. A certificate that is expired or not yet
// valid is not an error: `warning` (may be null) gets a sentence about it, else "".
platform::Status CheckTlsFiles(const TlsFiles& files, std::string* warning);

// Sets up a server context: TLS 1.2 or newer, the certificate chain and key, and with a client
// CA the demand for a client certificate it signed. Refused handshakes are logged (warn) with
// the peer's address and the reason. False if a file cannot be loaded (CheckTlsFiles says why).
bool ConfigureServerContext(SSL_CTX& ctx, const TlsFiles& files);

}  // namespace ferry::landing

// One sentence for a failed TLS connection, to the landing zone or to the broker: what failed,
// OpenSSL's reason, which peer, and which config key to look at. For logs and /status.
//   TLS: certificate verify failed: certificate has expired (upstream https://10.0.0.5:8443;
//   the landing zone's certificate is out of date: renew it, or correct this gateway's clock)
// Pure functions except TakeOpenSslError; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "agent/config/config.h"

namespace ferry::agent {

// Where the connection failed.
enum class TlsStep {
  kLoadCa,     // the CA file or directory could not be loaded
  kHandshake,  // the handshake broke off (an alert from the peer, or not TLS at all)
  kVerify,     // the peer's certificate chain did not verify (verify_result says why)
  kHostName,   // the chain verified, but the certificate is not for the host connected to
};

struct TlsFailure {
  TlsStep step = TlsStep::kHandshake;
  long verify_result = 0;  // X509_V_OK (0) or an X509_V_ERR_* code: SSL_get_verify_result
  std::string reason;      // OpenSSL's reason, "tlsv13 alert certificate required"; "" if none
};

// The other side of the connection, as the sentence names it.
struct TlsPeer {
  std::string_view role;     // "the landing zone", "the broker"
  std::string_view address;  // "upstream https://host:port", "broker host:port"
  std::string_view keys;     // the config prefix of its TlsOptions: "upstream.tls", "mqtt.tls"
};

std::string DescribeTlsFailure(const TlsFailure& failure, const TlsPeer& peer,
                               const TlsOptions& tls);

// The reason of the most recent error in this thread's OpenSSL error queue ("" if the queue is
// empty), and empties the queue.
std::string TakeOpenSslError();

// OpenSSL's text for an X509_V_* code ("certificate has expired").
std::string VerifyResultText(long verify_result);

}  // namespace ferry::agent

#include "agent/mqtt/tls_log.h"

#include <mosquitto.h>
#include <openssl/ssl.h>

#include <string_view>

#include "agent/tls/tls_error.h"

namespace ferry::agent {

std::string DescribeMosquittoTlsLog(mosquitto* mosq, int level, const char* text,
                                    const Config& config) {
  if (level != MOSQ_LOG_ERR || text == nullptr) return "";
  std::string_view line = text;
  std::string peer = "broker " + config.mqtt.host + ":" + std::to_string(config.mqtt.port);
  TlsFailure f;
  if (line.starts_with("OpenSSL Error")) {
    // "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed": the reason is
    // the last field.
    size_t colon = line.rfind(':');
    f.reason = std::string(colon == std::string_view::npos ? line : line.substr(colon + 1));
    if (f.reason == "certificate verify failed") {
      SSL* ssl = mosq ? static_cast<SSL*>(mosquitto_ssl_get(mosq)) : nullptr;
      f.verify_result = ssl ? SSL_get_verify_result(ssl) : X509_V_ERR_UNSPECIFIED;
      // libmosquitto's own host name check fails the chain without an error code.
      f.step = f.verify_result == X509_V_OK ? TlsStep::kHostName : TlsStep::kVerify;
    }
  } else if (line.starts_with("Error: host name verification failed")) {
    f.step = TlsStep::kHostName;
  } else if (line.starts_with("Error: Unable to load CA certificates")) {
    f.step = TlsStep::kLoadCa;
  } else {
    return "";
  }
  return DescribeTlsFailure(f, {"the broker", peer, "mqtt.tls"}, config.mqtt.tls);
}

}  // namespace ferry::agent

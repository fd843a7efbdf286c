// libmosquitto reports why a TLS connection failed only through its log callback
//   "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed"
// and frees the connection before the call that failed returns. Read from inside the log
// callback, while the connection still exists, such a line becomes one sentence for the log and
// /status, with the certificate's verify result (see agent/tls/tls_error.h).
#pragma once

#include <string>

#include "agent/config/config.h"

struct mosquitto;

namespace ferry::agent {

// The sentence for one line of libmosquitto's log (`level` MOSQ_LOG_*), or "" when the line is
// not about TLS. Call from the log callback of `mosq`, connected to config.mqtt.host:port.
std::string DescribeMosquittoTlsLog(mosquitto* mosq, int level, const char* text,
                                    const Config& config);

}  // namespace ferry::agent

#include "agent/tls/tls_error.h"

#include <doctest/doctest.h>
#include <openssl/x509_vfy.h>

using ferry::agent::DescribeTlsFailure;
using ferry::agent::TlsFailure;
using ferry::agent::TlsOptions;
using ferry::agent::TlsPeer;
using ferry::agent::TlsStep;

namespace {

const TlsPeer kLanding{"the landing zone", "upstream https://10.0.0.5:8443", "upstream.tls"};
const TlsPeer kBroker{"the broker", "broker 127.0.0.1:8883", "mqtt.tls"};

TlsOptions WithCa(std::string ca_file) {
  TlsOptions tls;
  tls.ca_file = std::move(ca_file);
  return tls;
}

}  // namespace

TEST_CASE("an untrusted chain names the verify error, the peer and the CA key to check") {
  TlsFailure f{TlsStep::kVerify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, ""};
  CHECK(DescribeTlsFailure(f, kLanding, WithCa("/etc/ferry/ca.pem")) ==
        "TLS: certificate verify failed: unable to get local issuer certificate (upstream "
        "https://10.0.0.5:8443; check upstream.tls.ca_file (/etc/ferry/ca.pem): it must hold the "
        "CA that signed the landing zone's certificate)");
  CHECK(DescribeTlsFailure(f, kBroker, TlsOptions{}) ==
        "TLS: certificate verify failed: unable to get local issuer certificate (broker "
        "127.0.0.1:8883; check mqtt.tls.ca_file (unset: the system's CAs are used): it must hold "
        "the CA that signed the broker's certificate)");
}

TEST_CASE("an expired or not yet valid certificate says to renew it or fix the clock") {
  for (long result : {X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID}) {
    std::string text = DescribeTlsFailure({TlsStep::kVerify, result, ""}, kLanding, TlsOptions{});
    CAPTURE(text);
    CHECK(text.find(result == X509_V_ERR_CERT_HAS_EXPIRED
                        ? "certificate has expired"
                        : "certificate is not yet valid") != std::string::npos);
    CHECK(text.find("the landing zone's certificate is out of date: renew it, or correct this "
                    "gateway's clock") != std::string::npos);
  }
}

TEST_CASE("a host name mismatch, from a code or a chain that verified, says so") {
  std::string want =
      "TLS: certificate verify failed: the broker's certificate is not issued for the host name "
      "or address connected to (broker 127.0.0.1:8883; connect by a name or address the "
      "certificate lists)";
  CHECK(DescribeTlsFailure({TlsStep::kHostName, X509_V_OK, ""}, kBroker, TlsOptions{}) == want);
  CHECK(DescribeTlsFailure({TlsStep::kVerify, X509_V_ERR_IP_ADDRESS_MISMATCH, ""}, kBroker,
                           TlsOptions{}) == want);
}

TEST_CASE("a refused handshake gets advice from the alert") {
  TlsOptions none;
  TlsOptions with_cert;
  with_cert.cert_file = "/etc/ferry/client.pem";
  CHECK(DescribeTlsFailure({TlsStep::kHandshake, 0, "tlsv13 alert certificate required"}, kLanding,
                           none) ==
        "TLS: handshake failed: tlsv13 alert certificate required (upstream "
        "https://10.0.0.5:8443; the landing zone requires a client certificate: set "
        "upstream.tls.cert_file and key_file)");
  CHECK(DescribeTlsFailure({TlsStep::kHandshake, 0, "sslv3 alert handshake failure"}, kBroker, none)
            .find("set mqtt.tls.cert_file and key_file") != std::string::npos);
  CHECK(
      DescribeTlsFailure({TlsStep::kHandshake, 0, "tlsv1 alert unknown ca"}, kBroker, with_cert) ==
      "TLS: handshake failed: tlsv1 alert unknown ca (broker 127.0.0.1:8883; the broker "
      "refused the client certificate in mqtt.tls.cert_file (/etc/ferry/client.pem): is it "
      "valid and signed by a CA the broker trusts?)");
  CHECK(DescribeTlsFailure({TlsStep::kHandshake, 0, "wrong version number"}, kLanding, none)
            .find("does the landing zone speak TLS on that port?") != std::string::npos);
  CHECK(DescribeTlsFailure({TlsStep::kHandshake, 0, ""}, kLanding, none) ==
        "TLS: handshake failed: connection closed (upstream https://10.0.0.5:8443)");
}

TEST_CASE("CA files that cannot be loaded are named") {
  TlsOptions tls = WithCa("/etc/ferry/missing.pem");
  CHECK(DescribeTlsFailure({TlsStep::kLoadCa, 0, ""}, kLanding, tls) ==
        "TLS: cannot load the CA certificates (upstream https://10.0.0.5:8443; check "
        "upstream.tls.ca_file (/etc/ferry/missing.pem) and upstream.tls.ca_dir: readable PEM "
        "certificates)");
}

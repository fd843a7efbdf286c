#include "agent/tls/tls_error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace ferry::agent {
namespace {

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string CaAdvice(const TlsPeer& peer, const TlsOptions& tls) {
  std::string out = "check " + std::string(peer.keys) + ".ca_file";
  if (!tls.ca_file.empty()) {
    out += " (" + tls.ca_file + ")";
  } else if (!tls.ca_dir.empty()) {
    out += " and ca_dir (" + tls.ca_dir + ")";
  } else {
    out += " (unset: the system's CAs are used)";
  }
  return out + ": it must hold the CA that signed " + std::string(peer.role) + "'s certificate";
}

std::string VerifyAdvice(long result, const TlsPeer& peer, const TlsOptions& tls) {
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return std::string(peer.role) +
             "'s certificate is out of date: renew it, or correct this gateway's clock";
    default:
      return CaAdvice(peer, tls);
  }
}

// Advice for a handshake the peer broke off, from OpenSSL's reason.
std::string HandshakeAdvice(std::string_view reason, const TlsPeer& peer, const TlsOptions& tls) {
  std::string k(peer.keys), role(peer.role);
  if (Has(reason, "certificate required") ||
      (Has(reason, "handshake failure") && tls.cert_file.empty())) {
    return role + " requires a client certificate: set " + k + ".cert_file and key_file";
  }
  if (Has(reason, "unknown ca") || Has(reason, "bad certificate") ||
      Has(reason, "certificate unknown") || Has(reason, "unsupported certificate") ||
      Has(reason, "certificate expired") || Has(reason, "certificate revoked") ||
      Has(reason, "access denied")) {
    return role + " refused the client certificate in " + k + ".cert_file (" + tls.cert_file +
           "): is it valid and signed by a CA " + role + " trusts?";
  }
  if (Has(reason, "wrong version number") || Has(reason, "packet length too long") ||
      Has(reason, "unexpected eof")) {
    return "does " + role + " speak TLS on that port?";
  }
  return "";
}

}  // namespace

std::string VerifyResultText(long verify_result) {
  return X509_verify_cert_error_string(verify_result);
}

std::string TakeOpenSslError() {
  // The first error is the cause; a failed handshake may add "shutdown while in init" from
  // closing the connection afterwards, which says nothing.
  unsigned long e = 0;
  for (unsigned long next; (next = ERR_get_error()) != 0;) {
    if (e == 0 && ERR_GET_REASON(next) != SSL_R_SHUTDOWN_WHILE_IN_INIT) e = next;
  }
  if (e == 0) return "";
  const char* reason = ERR_reason_error_string(e);
  if (reason) return reason;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string DescribeTlsFailure(const TlsFailure& f, const TlsPeer& peer, const TlsOptions& tls) {
  std::string what, advice;
  std::string k(peer.keys);
  switch (f.step) {
    case TlsStep::kLoadCa:
      what = "cannot load the CA certificates";
      if (!f.reason.empty()) what += ": " + f.reason;
      advice = "check " + k + ".ca_file" + (tls.ca_file.empty() ? "" : " (" + tls.ca_file + ")") +
               " and " + k + ".ca_dir" + (tls.ca_dir.empty() ? "" : " (" + tls.ca_dir + ")") +
               ": readable PEM certificates";
      break;
    case TlsStep::kVerify:
      if (f.verify_result == X509_V_ERR_HOSTNAME_MISMATCH ||
          f.verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        return DescribeTlsFailure({TlsStep::kHostName, f.verify_result, f.reason}, peer, tls);
      }
      what = "certificate verify failed: " + VerifyResultText(f.verify_result);
      advice = VerifyAdvice(f.verify_result, peer, tls);
      break;
    case TlsStep::kHostName:
      what = "certificate verify failed: " + std::string(peer.role) +
             "'s certificate is not issued for the host name or address connected to";
      advice = "connect by a name or address the certificate lists";
      break;
    case TlsStep::kHandshake:
      what = "handshake failed: " + (f.reason.empty() ? "connection closed" : f.reason);
      advice = HandshakeAdvice(f.reason, peer, tls);
      break;
  }
  std::string out = "TLS: " + what + " (" + std::string(peer.address);
  if (!advice.empty()) out += "; " + advice;
  return out + ")";
}

}  // namespace ferry::agent

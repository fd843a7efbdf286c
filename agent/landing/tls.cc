#include "agent/landing/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <memory>

#include "platform/file.h"
#include "platform/log.h"

namespace ferry::landing {
namespace {

using platform::Status;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Never asks for a pass phrase: OpenSSL's default would prompt on the terminal.
int NoPassword(char*, int, int, void*) { return -1; }

// What each option should name, for the "what to do" half of an error.
const char* Wanted(const std::string& option) {
  if (option == "--tls-cert") return "the server certificate (PEM), then any intermediate CAs";
  if (option == "--tls-key") return "the server certificate's private key (PEM, unencrypted)";
  return "the CA certificate (PEM) that signs the clients' certificates";
}

Status ReadPem(const std::string& option, const std::string& path, std::string* text) {
  auto read = platform::ReadFile(path);
  if (!read.ok()) {
    // The message is "open PATH: <errno text>": keep the errno text.
    const std::string& m = read.status().message();
    size_t at = m.find(path + ": ");
    std::string why = at == std::string::npos ? m : m.substr(at + path.size() + 2);
    return Status(read.status().code(),
                  option + " " + path + ": cannot read it (" + why + "); give " + Wanted(option));
  }
  *text = std::move(read).value();
  return Status::Ok();
}

Status NotPem(const std::string& option, const std::string& path) {
  ERR_clear_error();
  return Status::InvalidArgument(option + " " + path + ": no PEM " +
                                 (option == "--tls-key" ? "private key" : "certificate") +
                                 " in it; give " + Wanted(option));
}

BioPtr MemBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string TimeText(const ASN1_TIME* t) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), t);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string ValidityWarning(X509* cert, const std::string& path) {
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return "the certificate in --tls-cert " + path + " expired on " +
           TimeText(X509_get0_notAfter(cert)) + ": clients will refuse it; renew it";
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    return "the certificate in --tls-cert " + path + " is not valid before " +
           TimeText(X509_get0_notBefore(cert)) + ": clients will refuse it until then";
  }
  return "";
}

std::string PeerAddress(const SSL* ssl) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int fd = SSL_get_fd(ssl);
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
}

// Alerts about certificates and versions, the ones an operator can act on. Others (a port check
// that connects and closes gets "decode error") are logged at debug level only.
bool Actionable(int alert) {
  switch (alert & 0xff) {
    case SSL_AD_HANDSHAKE_FAILURE:
    case SSL_AD_BAD_CERTIFICATE:
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
    case SSL_AD_CERTIFICATE_REVOKED:
    case SSL_AD_CERTIFICATE_EXPIRED:
    case SSL_AD_CERTIFICATE_UNKNOWN:
    case SSL_AD_UNKNOWN_CA:
    case SSL_AD_ACCESS_DENIED:
    case SSL_AD_PROTOCOL_VERSION:
    case SSL_AD_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

// Logs every handshake that ends in a fatal alert, sent or received, with the reason.
void OnTlsInfo(const SSL* ssl, int where, int value) {
  if (!(where & SSL_CB_ALERT) || std::string_view(SSL_alert_type_string(value)) != "F") return;
  platform::LogLevel level =
      Actionable(value) ? platform::LogLevel::kWarn : platform::LogLevel::kDebug;
  if (!platform::LogEnabled(level)) return;
  // OpenSSL 3.0 has no text for TLS 1.3's "certificate required".
  std::string why = (value & 0xff) == SSL_AD_CERTIFICATE_REQUIRED
                        ? "certificate required: the client sent no certificate"
                        : SSL_alert_desc_string_long(value);
  if (where & SSL_CB_WRITE) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) why += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    platform::Log(level, "landing", "TLS: refused a client at " + PeerAddress(ssl) + ": " + why);
  } else {
    platform::Log(level, "landing",
                  "TLS: a client at " + PeerAddress(ssl) + " ended the handshake: " + why);
  }
}

}  // namespace

Status CheckTlsFiles(const TlsFiles& files, std::string* warning) {
  if (warning) warning->clear();
  std::string cert_text, key_text;
  FERRY_RETURN_IF_ERROR(ReadPem("--tls-cert", files.cert, &cert_text));
  FERRY_RETURN_IF_ERROR(ReadPem("--tls-key", files.key, &key_text));
  BioPtr cert_bio = MemBio(cert_text);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassword, nullptr));
  if (!cert) return NotPem("--tls-cert", files.cert);
  BioPtr key_bio = MemBio(key_text);
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassword, nullptr));
  if (!key) {
    if (key_text.find("ENCRYPTED") != std::string::npos) {
      ERR_clear_error();
      return Status::InvalidArgument("--tls-key " + files.key +
                                     ": the key is encrypted; give it unencrypted (openssl pkey "
                                     "-in KEY -out PLAIN) and readable only by this user");
    }
    return NotPem("--tls-key", files.key);
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("--tls-key " + files.key +
                                   " is not the key of the certificate in --tls-cert " +
                                   files.cert + "; give the key the certificate was issued for");
  }
  if (!files.client_ca.empty()) {
    std::string ca_text;
    FERRY_RETURN_IF_ERROR(ReadPem("--tls-client-ca", files.client_ca, &ca_text));
    BioPtr ca_bio = MemBio(ca_text);
    X509Ptr ca(PEM_read_bio_X509(ca_bio.get(), nullptr, NoPassword, nullptr));
    if (!ca) return NotPem("--tls-client-ca", files.client_ca);
  }
  if (warning) *warning = ValidityWarning(cert.get(), files.cert);
  return Status::Ok();
}

bool ConfigureServerContext(SSL_CTX& ctx, const TlsFiles& files) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(&ctx, NoPassword);
  // Send the chain --tls-cert holds, no more: not one OpenSSL completes from the client CAs.
  SSL_CTX_set_mode(&ctx, SSL_MODE_NO_AUTO_CHAIN);
  bool ok = SSL_CTX_use_certificate_chain_file(&ctx, files.cert.c_str()) == 1 &&
            SSL_CTX_use_PrivateKey_file(&ctx, files.key.c_str(), SSL_FILETYPE_PEM) == 1 &&
            SSL_CTX_check_private_key(&ctx) == 1;
  if (ok && !files.client_ca.empty()) {
    ok = SSL_CTX_load_verify_locations(&ctx, files.client_ca.c_str(), nullptr) == 1;
    // Tells clients which CAs to choose a certificate from.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
    if (names) SSL_CTX_set_client_CA_list(&ctx, names);
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_info_callback(&ctx, OnTlsInfo);
  ERR_clear_error();
  return ok;
}

}  // namespace ferry::landing

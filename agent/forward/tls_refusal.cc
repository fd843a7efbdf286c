#include "agent/forward/tls_refusal.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <ctime>
#include <memory>

#include "agent/tls/tls_error.h"

namespace ferry::agent {
namespace {

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

// Runs `step` (SSL_connect, SSL_read) until it completes or fails, waiting on the socket in
// between. >0: done; 0: the peer closed or the time ran out; <0: failed (reason queued).
template <typename Step>
int Drive(SSL* ssl, BIO* bio, time_t deadline, Step step) {
  for (;;) {
    int rc = step();
    if (rc > 0) return rc;
    int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return -1;
    if (BIO_wait(bio, deadline, 0) != 1) return 0;
  }
}

}  // namespace

std::string ReadTlsRefusal(SSL_CTX* ctx, const std::string& host_port, const std::string& sni,
                           int timeout_s) {
  ERR_clear_error();
  if (ctx == nullptr) return "";
  BIO* bio = BIO_new_connect(host_port.c_str());
  if (bio == nullptr) return "";
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx));
  if (!ssl) {
    BIO_free(bio);
    return "";
  }
  SSL_set_bio(ssl.get(), bio, bio);  // the SSL owns the BIO now
  BIO_set_nbio(bio, 1);
  if (BIO_do_connect_retry(bio, timeout_s, 0) != 1) {
    ERR_clear_error();
    return "";
  }
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  SSL_set_connect_state(ssl.get());
  time_t deadline = std::time(nullptr) + timeout_s;
  char byte;
  int rc = Drive(ssl.get(), bio, deadline, [&] { return SSL_connect(ssl.get()); });
  if (rc > 0) rc = Drive(ssl.get(), bio, deadline, [&] { return SSL_read(ssl.get(), &byte, 1); });
  if (rc < 0) return TakeOpenSslError();
  ERR_clear_error();
  return "";
}

}  // namespace ferry::agent

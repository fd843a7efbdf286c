#include "agent/forward/tls_refusal.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "agent/tls/tls_error.h"
#include "platform/clock.h"
#include "platform/poll.h"

namespace ferry::agent {
namespace {

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

// Runs `step` (SSL_connect, SSL_read) until it completes or fails, waiting on the socket in
// between until `deadline_ms` on the monotonic clock (not BIO_wait's wall-clock time_t, which
// is 32 bits on armhf and moves with the wall clock). >0: done; 0: the peer closed or the time
// ran out; <0: failed (reason queued).
template <typename Step>
int Drive(SSL* ssl, int64_t deadline_ms, Step step) {
  platform::Clock& clock = platform::SystemClock();
  for (;;) {
    int rc = step();
    if (rc > 0) return rc;
    int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return -1;
    int64_t left = deadline_ms - clock.MonotonicMillis();
    if (left <= 0) return 0;
    auto ready = platform::WaitFd(SSL_get_fd(ssl), err == SSL_ERROR_WANT_READ,
                                  err == SSL_ERROR_WANT_WRITE, static_cast<int>(left));
    if (!ready.ok()) return 0;  // on a hang-up the next step reads the alert or the end
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
  int64_t deadline_ms =
      platform::SystemClock().MonotonicMillis() + std::max(0, timeout_s) * int64_t{1000};
  char byte;
  int rc = Drive(ssl.get(), deadline_ms, [&] { return SSL_connect(ssl.get()); });
  if (rc > 0) rc = Drive(ssl.get(), deadline_ms, [&] { return SSL_read(ssl.get(), &byte, 1); });
  if (rc < 0) return TakeOpenSslError();
  ERR_clear_error();
  return "";
}

}  // namespace ferry::agent

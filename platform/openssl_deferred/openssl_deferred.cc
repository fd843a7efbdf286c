// OpenSSL initialized at first TLS use, not at load.
//
// Debian's cpp-httplib is built with OpenSSL, and its library constructor calls
// OPENSSL_init_ssl: the config file, the default provider, every cipher, digest and error
// string. That made 1.7 MiB of libcrypto resident (2 MiB of RSS) in every ferry, most of which
// never use TLS (tests/bench/startup_rss.py). This definition, linked into the ferry
// executable, takes precedence over libssl's for every shared library (ELF symbol
// interposition: the executable comes first in the lookup order). A call made while the shared
// libraries' constructors run, before the executable's own, is remembered and skipped; every
// later call goes to libssl's with the skipped options added. OpenSSL 1.1 and later initialize
// themselves on first use (SSL_CTX_new calls OPENSSL_init_ssl, EVP calls OPENSSL_init_crypto),
// so the first TLS connection initializes OpenSSL as the constructor would have; test_tls
// covers every TLS path of the agent with it.
#include <dlfcn.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>

namespace {

std::atomic<bool> g_executable_started{false};
std::atomic<uint64_t> g_deferred_options{0};

using InitSsl = int (*)(uint64_t, const OPENSSL_INIT_SETTINGS*);

InitSsl LibsslInit() {
  static const InitSsl init = reinterpret_cast<InitSsl>(dlsym(RTLD_NEXT, "OPENSSL_init_ssl"));
  return init;
}

// The executable's constructors run after those of every shared library it loads.
__attribute__((constructor)) void MarkExecutableStarted() { g_executable_started = true; }

}  // namespace

extern "C" int OPENSSL_init_ssl(uint64_t opts, const OPENSSL_INIT_SETTINGS* settings) {
  if (!g_executable_started.load(std::memory_order_acquire)) {
    g_deferred_options.fetch_or(opts);
    return 1;
  }
  InitSsl init = LibsslInit();
  if (init == nullptr) return 0;
  return init(opts | g_deferred_options.exchange(0), settings);
}

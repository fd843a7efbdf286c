// The forwarders: each loads libcurl on first use and calls the real function. The two
// variadic ones pass their one argument on by its type, which libcurl encodes in the option's
// number (CURLOPTTYPE_*) and which is a pointer for every CURLINFO.
#define CURL_DISABLE_TYPECHECK 1  // the type-checking macros would rename what is defined here
#include "agent/s3/curl_loader.h"

#include <curl/curl.h>

#include <cstdarg>
#include <mutex>

#include "platform/shared_library.h"

namespace ferry::s3 {
namespace {

constexpr const char* kSoname = "libcurl.so.4";

struct CurlApi {
  platform::Status loaded;
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

template <typename Fn>
platform::Status Bind(void* lib, const char* name, Fn* out) {
  platform::Result<void*> sym = platform::SharedLibrarySymbol(lib, name);
  if (!sym.ok()) return sym.status();
  *out = reinterpret_cast<Fn>(*sym);
  return platform::Status::Ok();
}

platform::Status LoadInto(CurlApi& a) {
  platform::Result<void*> lib = platform::LoadSharedLibrary(kSoname);
  if (!lib.ok()) return lib.status().WithContext("S3 needs libcurl (Debian: libcurl4)");
  void* l = *lib;
  for (platform::Status st :
       {Bind(l, "curl_global_init", &a.global_init), Bind(l, "curl_easy_init", &a.easy_init),
        Bind(l, "curl_easy_cleanup", &a.easy_cleanup), Bind(l, "curl_easy_reset", &a.easy_reset),
        Bind(l, "curl_easy_setopt", &a.easy_setopt), Bind(l, "curl_easy_perform", &a.easy_perform),
        Bind(l, "curl_easy_getinfo", &a.easy_getinfo),
        Bind(l, "curl_easy_strerror", &a.easy_strerror),
        Bind(l, "curl_slist_append", &a.slist_append),
        Bind(l, "curl_slist_free_all", &a.slist_free_all)}) {
    if (!st.ok()) return st.WithContext(kSoname);
  }
  return platform::Status::Ok();
}

const CurlApi& Api() {
  static CurlApi api;
  static std::once_flag once;
  std::call_once(once, [] { api.loaded = LoadInto(api); });
  return api;
}

}  // namespace

platform::Status LoadCurl() { return Api().loaded; }

}  // namespace ferry::s3

using ferry::s3::Api;

extern "C" {

CURLcode curl_global_init(long flags) {
  return Api().loaded.ok() ? Api().global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init() { return Api().loaded.ok() ? Api().easy_init() : nullptr; }

// The functions below take a handle, which only a loaded libcurl gives out.
void curl_easy_cleanup(CURL* curl) { Api().easy_cleanup(curl); }
void curl_easy_reset(CURL* curl) { Api().easy_reset(curl); }
CURLcode curl_easy_perform(CURL* curl) { return Api().easy_perform(curl); }

CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = Api().easy_setopt(curl, option, va_arg(ap, long));
  } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
    rc = Api().easy_setopt(curl, option, va_arg(ap, curl_off_t));
  } else {  // object, function and blob pointers are passed alike
    rc = Api().easy_setopt(curl, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*);
  va_end(ap);
  return Api().easy_getinfo(curl, info, out);
}

const char* curl_easy_strerror(CURLcode code) {
  return Api().loaded.ok() ? Api().easy_strerror(code) : "libcurl is not loaded";
}

curl_slist* curl_slist_append(curl_slist* list, const char* s) {
  return Api().loaded.ok() ? Api().slist_append(list, s) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (Api().loaded.ok()) Api().slist_free_all(list);
}

}  // extern "C"

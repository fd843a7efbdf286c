#include "platform/shared_library.h"

#include <dlfcn.h>

namespace ferry::platform {

Result<void*> LoadSharedLibrary(const std::string& soname) {
  void* lib = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    return Status::Unavailable("loading " + soname + ": " + (why ? why : "unknown error"));
  }
  return lib;
}

Result<void*> SharedLibrarySymbol(void* library, const std::string& symbol) {
  dlerror();
  void* sym = dlsym(library, symbol.c_str());
  if (sym == nullptr) {
    const char* why = dlerror();
    return Status::Unavailable("symbol " + symbol + ": " + (why ? why : "not found"));
  }
  return sym;
}

}  // namespace ferry::platform

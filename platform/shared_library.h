// Shared libraries loaded at run time (dlopen), for what only some configurations need: a
// library linked at build time is mapped, and its constructors run, in every process that
// starts, whether or not it is used.
//
// Thread-safe (dlopen and dlsym are). A library loaded is never unloaded.
#pragma once

#include <string>

#include "platform/status.h"

namespace ferry::platform {

// Loads `soname` (e.g. "libcurl.so.4") with its symbols resolved now. Errors: kUnavailable
// with the loader's message when it is missing or cannot be loaded.
Result<void*> LoadSharedLibrary(const std::string& soname);
// The address of `symbol` in a library LoadSharedLibrary returned. Errors: kUnavailable.
Result<void*> SharedLibrarySymbol(void* library, const std::string& symbol);

}  // namespace ferry::platform

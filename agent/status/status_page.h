// The status page served at GET /: one self-contained HTML document (styles and script inline,
// no external assets, about 14 KiB) that polls /status, /readyz, /status/history and
// /dead-letters every two seconds and draws its charts from the history ring. Its replay and
// purge buttons send the header request_guard.h requires of browsers.
#pragma once

#include <string_view>

namespace ferry::agent {

std::string_view StatusPageHtml();

}  // namespace ferry::agent

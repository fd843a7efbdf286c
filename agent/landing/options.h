// The command line of ferry-landing:
//   ferry-landing --listen HOST:PORT (--root DIR | --store s3://BUCKET[/PREFIX]) [--token-file F]
//                 [--s3-endpoint URL] [--s3-region R] [--s3-path-style]
//                 [--s3-credentials-file F]
//                 [--tls-cert F --tls-key F [--tls-client-ca F]] [--max-body SIZE]
//                 [--max-decompressed SIZE] [--log-level L] [--log-format text|json]
// Options take their value as the next argument or after '='. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/landing/tls.h"
#include "platform/log.h"
#include "platform/status.h"

namespace ferry::landing {

struct Options {
  bool help = false;        // --help: print the usage and exit 0; nothing else is checked
  bool version = false;     // --version, -V: print the version and exit 0; likewise
  std::string host;         // "127.0.0.1", "0.0.0.0", "::1" (brackets removed)
  int port = 0;             // 0: pick a free port
  std::string root;         // the directory store (--root DIR, or --store DIR)
  std::string store;        // the bucket store: "s3://bucket/prefix" ("" = directory)
  std::string s3_endpoint;  // "" = AWS in s3_region
  std::string s3_region = "us-east-1";
  bool s3_path_style = false;       // <endpoint>/<bucket>/<key> instead of <bucket>.<host>/<key>
  std::string s3_credentials_file;  // "" = AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...
  std::string token_file;           // "" = no token required
  TlsFiles tls;                     // --tls-cert, --tls-key, --tls-client-ca; cert "" = plain HTTP
  uint64_t max_body = 64ull << 20;
  uint64_t max_decompressed = 256ull << 20;
  platform::LogLevel log_level = platform::LogLevel::kInfo;
  platform::LogFormat log_format = platform::LogFormat::kText;
};

// The usage text, several lines, ending in '\n'.
std::string Usage();

// Parses the arguments after the program name. kInvalidArgument naming the option that is
// wrong, missing or unknown (also --tls-cert without --tls-key, or the other way round,
// --tls-client-ca without both, neither or both of --root and an s3:// --store, --s3-* options
// without an s3:// store, a bad s3:// URL). Does not open the files: CheckTlsFiles does.
platform::Result<Options> ParseOptions(const std::vector<std::string>& args);

// The token in file `path`, surrounding whitespace removed. kNotFound/kIoError if unreadable,
// kInvalidArgument if empty.
platform::Result<std::string> ReadToken(const std::string& path);

}  // namespace ferry::landing

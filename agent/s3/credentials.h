// S3 credentials: an access key id, its secret, and an optional session token (temporary
// credentials from STS). They come from a file (upstream.s3.credentials_file or ferry-landing's
// --s3-credentials-file), reloaded on SIGHUP, or from the standard environment variables
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
//
// The file is the AWS CLI's shared credentials format, its [default] profile (or the only
// profile, or lines outside any section):
//   [default]
//   aws_access_key_id = AKIA...
//   aws_secret_access_key = ...
//   aws_session_token = ...        (optional)
// It must not be readable or writable by group or others (0600 or 0400), like an ssh key.
//
// The secret and the token never appear in a message of this module; Describe() names the key
// id only.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" = none

  // "access key AKIA...XYZ1 (with a session token)": what logs and /status may show.
  std::string Describe() const;
};

// Parses the text of a credentials file. kInvalidArgument naming the line or the missing key
// (never quoting a value).
platform::Result<Credentials> ParseCredentialsText(std::string_view text);

// Reads and parses `path`. kNotFound / kIoError when it cannot be read; kInvalidArgument when
// group or others may read or write it (saying to chmod 600) or when it is malformed. Every
// message names the path.
platform::Result<Credentials> LoadCredentialsFile(const std::string& path);

// From `env` (name -> value; main passes the process environment). kNotFound when
// AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is missing or empty.
platform::Result<Credentials> CredentialsFromEnv(const std::map<std::string, std::string>& env);

// The process environment's AWS_* variables, for CredentialsFromEnv.
std::map<std::string, std::string> AwsEnvironment();

// Where credentials come from and the current ones. Thread-safe: the uploader reads them for
// every request while a SIGHUP reloads them.
class CredentialsSource {
 public:
  // `file` "" = the environment. Load() must succeed once before Get() is meaningful.
  explicit CredentialsSource(std::string file) : file_(std::move(file)) {}

  // (Re)reads the file or the environment. On failure the previous credentials stay in use;
  // the error names the file or the variables, never a secret.
  platform::Status Load();
  Credentials Get() const;
  const std::string& file() const { return file_; }

 private:
  const std::string file_;
  mutable std::mutex mu_;
  Credentials current_;  // guarded by mu_
};

}  // namespace ferry::s3

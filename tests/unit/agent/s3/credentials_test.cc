// S3 credentials from a file (AWS shared credentials format, 0600) or the environment.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "agent/s3/credentials.h"
#include "platform/file.h"
#include "support/temp_dir.h"

using namespace ferry;

namespace {

std::string WriteFile(const testing::TempDir& dir, std::string_view text, mode_t mode) {
  std::string path = dir.File("credentials");
  REQUIRE(platform::WriteFileAtomic(path, text).ok());
  REQUIRE(chmod(path.c_str(), mode) == 0);
  return path;
}

}  // namespace

TEST_CASE("the default profile of a credentials file is used, with an optional token") {
  auto c = s3::ParseCredentialsText(
      "# ferry\n[other]\naws_access_key_id = OTHER\naws_secret_access_key = x\n"
      "[default]\naws_access_key_id = AKIAEXAMPLE12345\n"
      "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG\naws_session_token = tok\n");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKIAEXAMPLE12345");
  CHECK(c->secret_access_key == "wJalrXUtnFEMI/K7MDENG");
  CHECK(c->session_token == "tok");
  CHECK(c->Describe() == "access key AKIA...2345 (with a session token)");
  auto bare = s3::ParseCredentialsText("aws_access_key_id=A\naws_secret_access_key=B\n");
  REQUIRE(bare.ok());
  CHECK(bare->session_token == "");
}

TEST_CASE("a credentials file without a key or secret is refused without quoting values") {
  auto no_secret = s3::ParseCredentialsText("[default]\naws_access_key_id = AKIA\n");
  CHECK(no_secret.status().message() == "aws_secret_access_key missing or empty");
  auto bad = s3::ParseCredentialsText("[default]\nsecretvalue\n");
  CHECK(bad.status().message() == "line 2: expected key = value");
  CHECK(!s3::ParseCredentialsText("[a]\n[b]\n").ok());
}

TEST_CASE("a credentials file others may read is refused, saying to chmod 600") {
  testing::TempDir dir;
  std::string text = "aws_access_key_id=A\naws_secret_access_key=SECRET\n";
  std::string path = WriteFile(dir, text, 0644);
  auto open = s3::LoadCredentialsFile(path);
  REQUIRE(!open.ok());
  CHECK(open.status().message().find("chmod 600") != std::string::npos);
  CHECK(open.status().message().find("SECRET") == std::string::npos);
  REQUIRE(chmod(path.c_str(), 0600) == 0);
  CHECK(s3::LoadCredentialsFile(path).ok());
  CHECK(s3::LoadCredentialsFile(dir.File("missing")).status().code() == platform::Code::kNotFound);
}

TEST_CASE("credentials come from AWS_* variables when no file is set") {
  auto c = s3::CredentialsFromEnv(
      {{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "B"}, {"AWS_SESSION_TOKEN", "T"}});
  REQUIRE(c.ok());
  CHECK(c->session_token == "T");
  CHECK(s3::CredentialsFromEnv({{"AWS_ACCESS_KEY_ID", "A"}}).status().code() ==
        platform::Code::kNotFound);
}

TEST_CASE("a reload that fails keeps the credentials in use") {
  testing::TempDir dir;
  std::string path = WriteFile(dir, "aws_access_key_id=A\naws_secret_access_key=B\n", 0600);
  s3::CredentialsSource source(path);
  REQUIRE(source.Load().ok());
  REQUIRE(platform::WriteFileAtomic(path, "garbage\n").ok());
  REQUIRE(chmod(path.c_str(), 0600) == 0);
  CHECK(!source.Load().ok());
  CHECK(source.Get().access_key_id == "A");
  REQUIRE(platform::WriteFileAtomic(path, "aws_access_key_id=C\naws_secret_access_key=D\n").ok());
  REQUIRE(chmod(path.c_str(), 0600) == 0);
  REQUIRE(source.Load().ok());
  CHECK(source.Get().access_key_id == "C");
}

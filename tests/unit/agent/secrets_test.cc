// ResolveSecrets: secret files and the TLS files a config names, checked when it is loaded.
#include <doctest/doctest.h>

#include "agent/config/config.h"
#include "platform/file.h"
#include "support/temp_dir.h"

using namespace ferry;
using agent::Config;

namespace {

constexpr const char* kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string Write(const testing::TempDir& dir, const std::string& name, std::string_view text) {
  std::string path = dir.File(name);
  REQUIRE(platform::WriteFileAtomic(path, text).ok());
  return path;
}

std::string Error(Config config) {
  platform::Status st = agent::ResolveSecrets(&config);
  return st.ok() ? "" : st.message();
}

}  // namespace

TEST_CASE("secret files are read and trimmed; empty, missing or doubled secrets are errors") {
  testing::TempDir dir;
  Config c;
  c.upstream.token_file = Write(dir, "token", "  s3cret\n");
  c.mqtt.password_file = Write(dir, "password", "pw\n");
  REQUIRE(agent::ResolveSecrets(&c).ok());
  CHECK(c.upstream.token == "s3cret");
  CHECK(c.mqtt.password == "pw");

  Config empty;
  empty.upstream.token_file = Write(dir, "blank", " \n");
  CHECK(Error(empty) == "/upstream/token_file: " + dir.File("blank") + " is empty");
  Config missing;
  missing.mqtt.password_file = dir.File("nope");
  CHECK(Error(missing).starts_with("/mqtt/password_file: "));
  Config both;
  both.upstream.token = "inline";
  both.upstream.token_file = dir.File("token");
  CHECK(Error(both) == "/upstream/token_file: set either this or /upstream/token, not both");
}

TEST_CASE("TLS files are checked when the config is loaded, naming the key") {
  testing::TempDir dir;
  std::string pem = Write(dir, "ca.pem", kPem);
  Config ok;
  ok.mqtt.tls.ca_file = pem;
  ok.upstream.tls.cert_file = pem;
  ok.upstream.tls.key_file = pem;
  ok.upstream.tls.ca_dir = dir.path();
  CHECK(Error(ok) == "");

  Config missing;
  missing.upstream.tls.ca_file = dir.File("absent.pem");
  std::string e = Error(missing);
  CHECK(e.starts_with("/upstream/tls/ca_file: "));
  CHECK(e.find("absent.pem") != std::string::npos);

  Config der;
  der.mqtt.tls.cert_file = Write(dir, "cert.der", std::string("\x30\x82\x01\x0a", 4));
  der.mqtt.tls.key_file = pem;
  CHECK(Error(der) == "/mqtt/tls/cert_file: " + dir.File("cert.der") +
                          " is not a PEM file (no \"-----BEGIN\" line)");

  Config lonely;
  lonely.mqtt.tls.key_file = pem;
  CHECK(Error(lonely) == "/mqtt/tls/cert_file: mutual TLS needs both cert_file and key_file");

  Config not_dir;
  not_dir.upstream.tls.ca_dir = pem;
  CHECK(Error(not_dir) == "/upstream/tls/ca_dir: " + pem + " is not a readable directory");
}

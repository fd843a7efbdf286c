// ferry-landing: the reference landing-zone receiver (see landing-protocol.md).
// Exit codes: 0 after SIGTERM/SIGINT, 2 for a bad command line (also TLS files that cannot be
// used), 1 when it cannot start or serve.
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/landing/batch_store.h"
#include "agent/landing/http_server.h"
#include "agent/landing/options.h"
#include "agent/landing/receiver.h"
#include "agent/landing/s3_store.h"
#include "agent/s3/s3_location.h"
#include "platform/clock.h"
#include "platform/log.h"
#include "platform/signals.h"

namespace {

using namespace ferry;

int Fail(const std::string& message) {
  platform::LogError("landing", message);
  return 1;
}

void ApplyLogOptions(const landing::Options& o) {
  platform::SetLogLevel(o.log_level);
  platform::SetLogFormat(o.log_format);
}

// Serves until SIGTERM or SIGINT (0) or until the server fails (1). SIGHUP re-reads the S3
// credentials (`credentials` may be null: a directory store).
int Serve(landing::HttpServer& server, s3::CredentialsSource* credentials) {
  platform::Status result;
  std::atomic<bool> done{false};
  std::thread thread([&] {
    result = server.Serve();
    done = true;
  });
  while (!done) {
    platform::SignalEvent event = platform::WaitForSignal(200);
    if (event == platform::SignalEvent::kStop) break;
    if (event == platform::SignalEvent::kReload && credentials != nullptr) {
      platform::Status st = credentials->Load();
      if (st.ok()) {
        platform::LogInfo("landing", "S3 credentials reloaded: " + credentials->Get().Describe());
      } else {
        platform::LogError(
            "landing", "S3 credentials not reloaded (the old ones stay in use): " + st.message());
      }
    }
  }
  platform::LogInfo("landing", "stopping");
  server.Stop();
  thread.join();
  if (!result.ok()) return Fail(result.ToString());
  platform::LogInfo("landing", "stopped");
  return 0;
}

// The store the options name: a directory, or a bucket (whose credentials `credentials` gets).
platform::Result<std::unique_ptr<landing::Store>> OpenStore(
    const landing::Options& o, std::unique_ptr<s3::CredentialsSource>* credentials) {
  if (o.store.empty()) {
    auto dir = landing::BatchStore::Open(o.root);
    if (!dir.ok()) return dir.status();
    return std::unique_ptr<landing::Store>(std::move(dir).value());
  }
  auto location = s3::ParseS3Url(o.store);
  if (!location.ok()) return location.status();
  *credentials = std::make_unique<s3::CredentialsSource>(o.s3_credentials_file);
  FERRY_RETURN_IF_ERROR((*credentials)->Load());
  s3::S3ClientOptions client;
  client.bucket = location->bucket;
  client.region = o.s3_region;
  client.endpoint = o.s3_endpoint;
  client.path_style = o.s3_path_style;
  auto bucket =
      landing::S3Store::Open(client, location->prefix, **credentials, platform::SystemClock());
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<landing::Store>(std::move(bucket).value());
}

int Run(const landing::Options& o) {
  ApplyLogOptions(o);
  landing::ReceiverOptions ro;
  ro.max_body = o.max_body;
  ro.max_decompressed = o.max_decompressed;
  if (!o.token_file.empty()) {
    auto token = landing::ReadToken(o.token_file);
    if (!token.ok()) return Fail(token.status().ToString());
    ro.token = std::move(token).value();
  }
  std::unique_ptr<s3::CredentialsSource> credentials;
  auto store = OpenStore(o, &credentials);
  if (!store.ok()) return Fail(store.status().ToString());
  landing::Receiver receiver(**store, ro);
  landing::HttpServer server(receiver, o.max_body, o.tls);
  auto port = server.Bind(o.host, o.port);
  if (!port.ok()) return Fail(port.status().ToString());
  std::string host = o.host.find(':') == std::string::npos ? o.host : "[" + o.host + "]";
  // Tests and scripts wait for this line to learn the port.
  const char* scheme = o.tls.enabled() ? "https" : "http";
  std::printf("listening on %s://%s:%d\n", scheme, host.c_str(), *port);
  std::fflush(stdout);
  std::string tls = !o.tls.enabled()          ? ""
                    : o.tls.client_ca.empty() ? ", TLS"
                                              : ", TLS with client certificates";
  platform::LogInfo("landing", "listening on " + std::string(scheme) + "://" + host + ":" +
                                   std::to_string(*port) + ", " + (*store)->Describe() + tls +
                                   (ro.token.empty() ? "" : ", token required"));
  return Serve(server, credentials.get());
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts, so every thread inherits the blocked signals.
  platform::BlockProcessSignals();
  std::vector<std::string> args(argv + 1, argv + argc);
  auto options = landing::ParseOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "ferry-landing: %s\n%s", options.status().message().c_str(),
                 landing::Usage().c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(landing::Usage().c_str(), stdout);
    return 0;
  }
  if (options->version) {  // as `ferry --version` prints it
    std::printf("ferry-landing %s (revision %s, %s, %s)\n", FERRY_VERSION, FERRY_GIT_REVISION,
                FERRY_BUILD_TYPE, FERRY_TARGET_ARCH);
    return 0;
  }
  if (options->tls.enabled()) {
    ApplyLogOptions(*options);
    std::string warning;
    platform::Status tls = landing::CheckTlsFiles(options->tls, &warning);
    if (!tls.ok()) {
      std::fprintf(stderr, "ferry-landing: %s\n", tls.message().c_str());
      return 2;
    }
    if (!warning.empty()) platform::LogWarn("landing", warning);
  }
  return Run(*options);
}

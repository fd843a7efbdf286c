#include "agent/landing/options.h"

#include "agent/config/config.h"
#include "agent/landing/batch_key.h"
#include "agent/s3/s3_location.h"
#include "platform/file.h"
#include "platform/log.h"

namespace ferry::landing {
namespace {

using platform::Status;

// Applies one "--name value" to `o`. NotFound if the name is unknown, InvalidArgument if the
// value is bad.
Status SetOption(std::string_view name, const std::string& value, Options* o) {
  if (name == "--listen") {
    if (!agent::SplitHostPort(value, &o->host, &o->port)) {
      return Status::InvalidArgument("--listen: must be HOST:PORT, got '" + value + "'");
    }
  } else if (name == "--root") {
    if (value.empty()) return Status::InvalidArgument("--root: must not be empty");
    o->root = value;
  } else if (name == "--store") {
    if (value.empty()) return Status::InvalidArgument("--store: must not be empty");
    if (s3::IsS3Url(value)) {
      auto loc = s3::ParseS3Url(value);
      if (!loc.ok()) return Status::InvalidArgument("--store: " + loc.status().message());
      o->store = value;
    } else {
      o->root = value;
    }
  } else if (name == "--s3-endpoint" || name == "--s3-region" || name == "--s3-credentials-file") {
    if (value.empty()) return Status::InvalidArgument(std::string(name) + ": must not be empty");
    std::string* target = name == "--s3-endpoint" ? &o->s3_endpoint
                          : name == "--s3-region" ? &o->s3_region
                                                  : &o->s3_credentials_file;
    *target = value;
  } else if (name == "--token-file") {
    if (value.empty()) return Status::InvalidArgument("--token-file: must not be empty");
    o->token_file = value;
  } else if (name == "--tls-cert" || name == "--tls-key" || name == "--tls-client-ca") {
    if (value.empty()) return Status::InvalidArgument(std::string(name) + ": must not be empty");
    std::string* target = name == "--tls-cert"  ? &o->tls.cert
                          : name == "--tls-key" ? &o->tls.key
                                                : &o->tls.client_ca;
    *target = value;
  } else if (name == "--max-body" || name == "--max-decompressed") {
    uint64_t* target = name == "--max-body" ? &o->max_body : &o->max_decompressed;
    if (!agent::ParseSize(value, target) || *target == 0) {
      return Status::InvalidArgument(std::string(name) + ": must be a size like 64MiB, got '" +
                                     value + "'");
    }
  } else if (name == "--log-level") {
    if (!platform::ParseLogLevel(value, &o->log_level)) {
      return Status::InvalidArgument("--log-level: must be debug, info, warn or error");
    }
  } else if (name == "--log-format") {
    if (value != "text" && value != "json") {
      return Status::InvalidArgument("--log-format: must be text or json");
    }
    o->log_format = value == "json" ? platform::LogFormat::kJson : platform::LogFormat::kText;
  } else {
    return Status::NotFound("unknown option " + std::string(name));
  }
  return Status::Ok();
}

}  // namespace

std::string Usage() {
  return "usage: ferry-landing --listen HOST:PORT (--root DIR | --store s3://BUCKET[/PREFIX])\n"
         "                     [--s3-endpoint URL] [--s3-region REGION] [--s3-path-style]\n"
         "                     [--s3-credentials-file FILE] [--token-file FILE]\n"
         "                     [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]\n"
         "                     [--max-body SIZE] [--max-decompressed SIZE]\n"
         "                     [--log-level debug|info|warn|error] [--log-format text|json]\n"
         "\n"
         "The reference landing-zone receiver of Ferry (landing protocol version 1).\n"
         "  --listen HOST:PORT        address to serve on; port 0 picks a free port\n"
         "  --root DIR                landing zone: DIR/gateway=G/dt=YYYY-MM-DD/KEY.ndjson.zst\n"
         "                            (dt: the UTC date of the batch's first record's "
         "received_at)\n"
         "  --store s3://BUCKET/PREFIX  landing zone in an S3-compatible bucket, objects\n"
         "                            PREFIX/gateway=G/dt=YYYY-MM-DD/KEY.ndjson.zst; no state of\n"
         "                            its own: any number of instances may serve one bucket\n"
         "  --s3-endpoint URL         http(s)://HOST[:PORT] of the store (default AWS)\n"
         "  --s3-region REGION        signing region (default us-east-1)\n"
         "  --s3-path-style           URLs ENDPOINT/BUCKET/KEY (MinIO, Ceph, s3rver)\n"
         "  --s3-credentials-file F   AWS shared credentials file (mode 0600; [default]),\n"
         "                            re-read on SIGHUP; default: AWS_ACCESS_KEY_ID,\n"
         "                            AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN\n"
         "  --token-file FILE         require 'Authorization: Bearer <token in FILE>'\n"
         "  --tls-cert FILE           serve HTTPS with this certificate (PEM; then any\n"
         "                            intermediate CA certificates)\n"
         "  --tls-key FILE            the certificate's private key (PEM, unencrypted)\n"
         "  --tls-client-ca FILE      mutual TLS: require a client certificate signed by a CA\n"
         "                            in FILE (PEM); others are refused in the handshake\n"
         "  --max-body SIZE           largest request body (default 64MiB)\n"
         "  --max-decompressed SIZE   largest decompressed body (default 256MiB)\n"
         "  --log-level LEVEL         debug, info (default), warn or error\n"
         "  --log-format FORMAT       text (default) or json, on stderr\n"
         "  --help, --version         this text, or the version\n"
         "\n"
         "Exit codes: 0 after SIGTERM or SIGINT, 2 for a bad command line or unusable TLS files,\n"
         "1 when it cannot start or serve.\n";
}

platform::Result<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  bool have_listen = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return o;
    }
    if (arg == "--version" || arg == "-V") {
      o.version = true;
      return o;
    }
    if (arg.rfind("--", 0) != 0)
      return Status::InvalidArgument("unexpected argument '" + arg + "'");
    if (arg == "--s3-path-style") {
      o.s3_path_style = true;
      continue;
    }
    std::string name = arg;
    std::string value;
    size_t eq = arg.find('=');
    // An unknown name is the error to report, also when no value follows (issue 14, item 7).
    Options probe;
    if (SetOption(arg.substr(0, eq), "", &probe).code() == platform::Code::kNotFound) {
      return Status::InvalidArgument("unknown option " + arg.substr(0, eq));
    }
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::InvalidArgument(arg + ": value missing");
    }
    FERRY_RETURN_IF_ERROR(SetOption(name, value, &o));
    if (name == "--listen") have_listen = true;
  }
  if (!have_listen) return Status::InvalidArgument("--listen is required");
  if (o.root.empty() == o.store.empty()) {
    return Status::InvalidArgument(o.root.empty() ? "--root or --store is required"
                                                  : "give --root or --store, not both");
  }
  bool s3_options = !o.s3_endpoint.empty() || o.s3_region != "us-east-1" || o.s3_path_style ||
                    !o.s3_credentials_file.empty();
  if (s3_options && o.store.empty()) {
    return Status::InvalidArgument("--s3-* options need --store s3://BUCKET[/PREFIX]");
  }
  if (o.tls.cert.empty() != o.tls.key.empty()) {
    return Status::InvalidArgument(o.tls.cert.empty() ? "--tls-key needs --tls-cert"
                                                      : "--tls-cert needs --tls-key");
  }
  if (!o.tls.client_ca.empty() && o.tls.cert.empty()) {
    return Status::InvalidArgument("--tls-client-ca needs --tls-cert and --tls-key");
  }
  return o;
}

platform::Result<std::string> ReadToken(const std::string& path) {
  auto text = platform::ReadFile(path);
  if (!text.ok()) return text.status().WithContext("reading token file");
  std::string_view t = *text;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!t.empty() && space(t.front())) t.remove_prefix(1);
  while (!t.empty() && space(t.back())) t.remove_suffix(1);
  if (t.empty()) return Status::InvalidArgument("token file " + path + " is empty");
  return std::string(t);
}

}  // namespace ferry::landing

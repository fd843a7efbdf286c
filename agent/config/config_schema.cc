// The declaration of every config key: the one place that says what the file may hold.
// To add a key: one entry in the table of the struct that holds it, and the member in config.h.
#include <string>
#include <vector>

#include "agent/config/config_schema.h"
#include "agent/normalize/binary_fields.h"
#include "agent/normalize/event_time.h"
#include "agent/normalize/explode.h"
#include "agent/normalize/extract.h"
#include "agent/normalize/field_ops.h"
#include "agent/normalize/pairs.h"
#include "agent/normalize/route_match.h"
#include "agent/normalize/topic_template.h"
#include "agent/normalize/validate.h"
#include "agent/normalize/value_template.h"
#include "agent/s3/s3_location.h"
#include "agent/transform/pin.h"
#include "platform/file.h"
#include "platform/timezone.h"

namespace ferry::agent::schema {
namespace {

using nlohmann::json;
using T = KeyType;

std::string CheckGatewayId(const Value& v) {
  for (char c : v.text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return "may hold only letters A-Z a-z, digits, '_' and '-'";
  }
  return "";
}

std::string CheckUpstreamUrl(const Value& v) {
  HttpUrl url;
  if (ParseHttpUrl(v.text, &url)) return "";
  if (s3::IsS3Url(v.text)) {
    auto location = s3::ParseS3Url(v.text);
    return location.ok() ? "" : location.status().message();
  }
  return "must be an http:// or https:// URL with a host, like \"http://10.0.0.5:8080/v1/batches\""
         ", or s3://BUCKET[/PREFIX]";
}

std::string CheckListen(const Value& v) {
  std::string host;
  int port = 0;
  if (SplitHostPort(v.text, &host, &port)) return "";
  return "must be HOST:PORT with a port from 0 to 65535, like \"127.0.0.1:7070\"";
}

// MQTT topic filter: '+' and '#' stand alone in their level, '#' only in the last.
std::string CheckTopicFilter(const Value& v) {
  const std::string& t = v.text;
  for (size_t i = 0; i < t.size(); ++i) {
    bool level_start = i == 0 || t[i - 1] == '/';
    bool level_end = i + 1 == t.size() || t[i + 1] == '/';
    if ((t[i] == '+' || t[i] == '#') && !(level_start && level_end)) {
      return "'+' and '#' must fill a whole topic level";
    }
    if (t[i] == '#' && i + 1 != t.size()) return "'#' may only be the last topic level";
    if (t[i] == '\0') return "must not contain NUL";
  }
  return "";
}

// Routes use the normalizer's own template parser, so that what passes here also compiles there.
std::string CheckSha256(const Value& v) {
  if (v.text.empty()) return "";
  bool hex = v.text.size() == 64;
  for (char c : v.text) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  return hex ? "" : "must be 64 lower-case hex digits (sha256sum FILE)";
}

void RequireAtLeast(const char* path, int64_t value, const char* other_path, int64_t other,
                    Errors* errors) {
  if (value >= other) return;
  errors->push_back(std::string(path) + ": must be at least " + other_path + " (" +
                    FormatDuration(other) + ")");
}

}  // namespace

std::string CheckLabelNames(const Value& v) {
  for (const auto& [name, value] : v.map) {
    if (name.empty()) return "label names must not be empty";
  }
  return "";
}

// clang-format off
template <>
const std::vector<KeyDecl<Config>>& KeysOf<Config>() {
  using K = KeyDecl<Config>;
  auto key = Key<Config>;
  static const auto* keys = new std::vector<K>{
    key("/gateway/id", T::kString, "Unique id of this gateway, stamped on every record")
        .Required().Range(1, 64).Check(CheckGatewayId)
        .AllowedDoc("1 to 64 of `A-Z a-z 0-9 _ -`").Bind(FERRY_FIELD(gateway.id)),
    key("/gateway/labels", T::kStringMap, "Labels added to every record: {\"site\": \"plant-7\"}")
        .Default(json::object()).Check(CheckLabelNames).Bind(FERRY_FIELD(gateway.labels)),

    key("/storage/path", T::kString, "The queue's SQLite file; its directory must be writable")
        .Default("/var/lib/ferry/queue.db").Min(1).Bind(FERRY_FIELD(storage.path)),
    key("/storage/max_size", T::kSize, "Disk the queue may use, database and WAL together")
        .Default("256MiB").Min(kMiB).Bind(FERRY_FIELD(storage.max_size)),
    key("/storage/sync", T::kEnum, "full: fsync each commit before PUBACK; normal: WAL only, "
        "faster, the last commits may be lost on power loss")
        .Default("full").OneOf(AllowedNames<SyncMode>()).Bind(FERRY_FIELD(storage.sync)),
    key("/storage/commit_interval", T::kDuration, "At low message rates, wait up to this long "
        "to gather messages into one commit (fewer flash writes; PUBACKs wait as long)")
        .Default("1s").Range(0, 10 * kSecond).Bind(FERRY_FIELD(storage.commit_interval_ms)),
    key("/storage/commit_interval_qos1", T::kDuration, "A group of only QoS 1 messages may wait "
        "this long while it holds under 128 KiB (the broker keeps them until PUBACK, so a crash "
        "loses none, and a quiet gateway writes less flash; delivery waits as long); at most "
        "mqtt.keepalive (or the broker's MQTT 5 Server Keep Alive), less a quarter of it with "
        "transforms")
        .Default("30s").Range(0, 10 * kMinute).Bind(FERRY_FIELD(storage.commit_interval_qos1_ms)),
    key("/storage/commit_max_records", T::kInt, "Records per group commit at most; a group's "
        "lines are held in memory until its commit, so this bounds intake's memory")
        .Default(1024).Range(1, 100'000).Bind(FERRY_FIELD(storage.commit_max_records)),
    key("/storage/compression_level", T::kInt, "zstd level of stored blocks")
        .Default(3).Range(1, 19).Bind(FERRY_FIELD(storage.compression_level)),
    key("/storage/full_policy", T::kEnum, "When max_size is reached: block (stop taking "
        "messages in; the broker keeps them) or drop_oldest (delete the oldest records, counted)")
        .Default("block").OneOf(AllowedNames<FullPolicy>())
        .Bind(FERRY_FIELD(storage.full_policy)),
    key("/storage/max_age", T::kDuration, "Records older than this are dropped (counted); 0s: "
        "kept until delivered")
        .Default("0s").Range(0, 3650 * kDay).Bind(FERRY_FIELD(storage.max_age_ms)),
    key("/storage/dead_letters/max_size", T::kSize, "Dead letters may use this much of max_size "
        "(payload, topic and reason, 64 bytes a row), at most half; 0: a quarter of max_size")
        .Default("0").Bind(FERRY_FIELD(storage.dead_letters_max_size)),
    key("/storage/dead_letters/full_policy", T::kEnum, "When dead letters reach their max_size: "
        "drop_oldest (delete the oldest, counted) or block (stop taking messages in until they "
        "are replayed or purged)")
        .Default("drop_oldest").OneOf(AllowedNames<FullPolicy>())
        .Bind(FERRY_FIELD(storage.dead_letters_full_policy)),

    key("/mqtt/host", T::kString, "MQTT broker host name or address")
        .Default("127.0.0.1").Min(1).Bind(FERRY_FIELD(mqtt.host)),
    key("/mqtt/port", T::kInt, "MQTT broker port")
        .Default(1883).Range(1, 65535).Bind(FERRY_FIELD(mqtt.port)),
    key("/mqtt/client_id", T::kString, "MQTT client id; must be unique on the broker")
        .DefaultDoc("ferry-<gateway.id>").Range(1, 256).Bind(FERRY_FIELD(mqtt.client_id)),
    key("/mqtt/keepalive", T::kDuration, "MQTT keep-alive interval")
        .Default("30s").Range(5 * kSecond, kHour).Bind(FERRY_FIELD(mqtt.keepalive_ms)),
    key("/mqtt/subscriptions", T::kList, "Topic filters to subscribe to")
        .Required().Min(1).ListOf<Subscription>().Bind(FERRY_FIELD(mqtt.subscriptions)),
    key("/mqtt/username", T::kString, "MQTT user name; empty: none")
        .Default("").Bind(FERRY_FIELD(mqtt.username)),
    key("/mqtt/password", T::kString, "MQTT password")
        .Default("").Bind(FERRY_FIELD(mqtt.password)),
    key("/mqtt/reconnect_min", T::kDuration, "First delay before reconnecting to the broker")
        .Default("500ms").Range(10, kHour).Bind(FERRY_FIELD(mqtt.reconnect_min_ms)),
    key("/mqtt/reconnect_max", T::kDuration, "Longest delay between reconnects, >= reconnect_min")
        .Default("30s").Range(10, kDay).Bind(FERRY_FIELD(mqtt.reconnect_max_ms)),
    key("/mqtt/password_file", T::kString, "File holding the MQTT password (keeps the secret "
        "out of this file); read at start and reload")
        .Default("").Bind(FERRY_FIELD(mqtt.password_file)),
    key("/mqtt/tls/enabled", T::kBool, "Connect to the broker over TLS")
        .Default(false).Bind(FERRY_FIELD(mqtt.tls.enabled)),
    key("/mqtt/tls/ca_file", T::kString, "CA certificates (PEM) to verify the broker; empty: "
        "the system's (/etc/ssl/certs)")
        .Default("").Bind(FERRY_FIELD(mqtt.tls.ca_file)),
    key("/mqtt/tls/ca_dir", T::kString, "Directory of CA certificates (c_rehash'ed)")
        .Default("").Bind(FERRY_FIELD(mqtt.tls.ca_dir)),
    key("/mqtt/tls/cert_file", T::kString, "Client certificate (PEM) for mutual TLS")
        .Default("").Bind(FERRY_FIELD(mqtt.tls.cert_file)),
    key("/mqtt/tls/key_file", T::kString, "Client private key (PEM) for mutual TLS")
        .Default("").Bind(FERRY_FIELD(mqtt.tls.key_file)),
    key("/mqtt/tls/verify", T::kBool, "Verify the broker's certificate and host name; turn off "
        "only for tests")
        .Default(true).Bind(FERRY_FIELD(mqtt.tls.verify)),
    key("/mqtt/max_payload", T::kSize, "Larger messages are dead-lettered, not stored")
        .Default("1MiB").Range(1, 256 * kMiB).Bind(FERRY_FIELD(mqtt.max_payload)),

    key("/upstream/url", T::kString, "Landing zone URL that batches are POSTed to, or the "
        "bucket they are PUT in as objects")
        .Required().Check(CheckUpstreamUrl)
        .AllowedDoc("`http://HOST[:PORT][/PATH]`, https, or `s3://BUCKET[/PREFIX]`")
        .Bind(FERRY_FIELD(upstream.url)),
    key("/upstream/token", T::kString, "Bearer token sent with every request; empty: none")
        .Default("").Bind(FERRY_FIELD(upstream.token)),
    key("/upstream/token_file", T::kString, "File holding the bearer token (keeps the secret out "
        "of this file); read at start and reload")
        .Default("").Bind(FERRY_FIELD(upstream.token_file)),
    key("/upstream/tls/ca_file", T::kString, "CA certificates (PEM) to verify an https landing "
        "zone; empty: the system's")
        .Default("").Bind(FERRY_FIELD(upstream.tls.ca_file)),
    key("/upstream/tls/ca_dir", T::kString, "Directory of CA certificates (c_rehash'ed)")
        .Default("").Bind(FERRY_FIELD(upstream.tls.ca_dir)),
    key("/upstream/tls/cert_file", T::kString, "Client certificate (PEM) for mutual TLS")
        .Default("").Bind(FERRY_FIELD(upstream.tls.cert_file)),
    key("/upstream/tls/key_file", T::kString, "Client private key (PEM) for mutual TLS")
        .Default("").Bind(FERRY_FIELD(upstream.tls.key_file)),
    key("/upstream/tls/verify", T::kBool, "Verify the landing zone's certificate and host name; "
        "turn off only for tests")
        .Default(true).Bind(FERRY_FIELD(upstream.tls.verify)),
    key("/upstream/timeout", T::kDuration, "Time limit of one upload request")
        .Default("30s").Range(kSecond, 10 * kMinute).Bind(FERRY_FIELD(upstream.timeout_ms)),
    key("/upstream/batch/max_records", T::kInt, "Records per batch at most")
        .Default(50'000).Range(1, 1'000'000).Bind(FERRY_FIELD(upstream.batch_max_records)),
    key("/upstream/batch/max_bytes", T::kSize, "Uncompressed NDJSON bytes per batch at most")
        .DefaultDoc("8MiB; 32MiB for an s3:// upstream").Range(kKiB, 256 * kMiB)
        .Bind(FERRY_FIELD(upstream.batch_max_bytes)),
    key("/upstream/batch/linger", T::kDuration, "Longest wait to fill a batch before sending it")
        .DefaultDoc("1s; 60s for an s3:// upstream").Range(0, kHour)
        .Bind(FERRY_FIELD(upstream.batch_linger_ms)),
    key("/upstream/compression_level", T::kInt, "zstd level of request bodies; 0: uncompressed")
        .Default(3).Range(0, 19).Bind(FERRY_FIELD(upstream.compression_level)),
    key("/upstream/backoff/initial", T::kDuration, "First delay after a failed upload")
        .Default("1s").Range(10, kHour).Bind(FERRY_FIELD(upstream.backoff_initial_ms)),
    key("/upstream/backoff/max", T::kDuration, "Longest delay between failed uploads, >= initial")
        .Default("1m").Range(10, kDay).Bind(FERRY_FIELD(upstream.backoff_max_ms)),
    key("/upstream/breaker/failures", T::kInt, "Failed uploads in a row that open the circuit "
        "breaker: then only small probes are sent until the landing zone answers")
        .Default(3).Range(1, 1000).Bind(FERRY_FIELD(upstream.breaker_failures)),
    key("/upstream/breaker/probe_interval", T::kDuration, "Time between probes while the "
        "breaker is open")
        .Default("2s").Range(10, kHour).Bind(FERRY_FIELD(upstream.breaker_probe_ms)),
    key("/upstream/max_bytes_per_second", T::kSize, "Bandwidth cap for request bodies on "
        "metered links; 0: no cap")
        .Default("0").Range(0, 1024 * kMiB).Bind(FERRY_FIELD(upstream.max_bytes_per_second)),
    key("/upstream/s3/region", T::kString, "s3:// upstream: the region requests are signed for")
        .Default("us-east-1").Range(1, 64).Bind(FERRY_FIELD(upstream.s3.region)),
    key("/upstream/s3/endpoint", T::kString, "s3:// upstream: the store's URL, "
        "http(s)://HOST[:PORT] (MinIO, Ceph, R2); empty: AWS in the region")
        .Default("").Bind(FERRY_FIELD(upstream.s3.endpoint)),
    key("/upstream/s3/credentials_file", T::kString, "s3:// upstream: AWS shared credentials "
        "file (mode 0600; [default] profile), re-read on reload; empty: AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN")
        .Default("").Bind(FERRY_FIELD(upstream.s3.credentials_file)),
    key("/upstream/s3/path_style", T::kBool, "s3:// upstream: ENDPOINT/BUCKET/KEY URLs instead "
        "of BUCKET.HOST/KEY (MinIO, Ceph, s3rver)")
        .Default(false).Bind(FERRY_FIELD(upstream.s3.path_style)),
    key("/upstream/shutdown_grace", T::kDuration, "On SIGTERM, how long a request in flight may "
        "take before it is broken off (its batch stays queued)")
        .Default("5s").Range(0, 10 * kMinute).Bind(FERRY_FIELD(upstream.shutdown_grace_ms)),

    key("/status/listen", T::kString, "Address of the local status server; port 0 picks a free one")
        .Default("127.0.0.1:7070").Check(CheckListen).AllowedDoc("`HOST:PORT`, port 0 to 65535")
        .Bind(FERRY_FIELD(status.listen)),
    key("/status/token", T::kString, "Bearer token required by endpoints that change anything "
        "(dead-letter replay) when status.listen is not a loopback address")
        .Default("").Bind(FERRY_FIELD(status.token)),

    key("/log/level", T::kEnum, "Least severe log level written")
        .Default("info").OneOf(AllowedNames<platform::LogLevel>()).Bind(FERRY_FIELD(log.level)),
    key("/log/format", T::kEnum, "text for a person, json for one object per line")
        .Default("text").OneOf(AllowedNames<platform::LogFormat>()).Bind(FERRY_FIELD(log.format)),

    key("/routes", T::kList, "Normalization rules, tried in order; the first match applies")
        .Default(json::array()).ListOf<Route>().Bind(FERRY_FIELD(routes)),
    key("/transforms", T::kObjectMap, "User-defined transforms by name, each a sandboxed "
        "co-process a route may name (docs/transforms.md)")
        .Default(json::object()).ListOf<TransformConfig>().Bind(FERRY_FIELD(transforms)),
  };
  return *keys;
}

template <>
const std::vector<KeyDecl<Subscription>>& KeysOf<Subscription>() {
  auto key = Key<Subscription>;
  static const auto* keys = new std::vector<KeyDecl<Subscription>>{
    key("/topic", T::kString, "MQTT topic filter; '+' and '#' allowed")
        .Required().Min(1).Check(CheckTopicFilter).Bind(FERRY_FIELD(topic)),
    key("/qos", T::kInt, "MQTT QoS of the subscription")
        .Default(1).Range(0, 1).Bind(FERRY_FIELD(qos)),
  };
  return *keys;
}


template <>
const std::vector<KeyDecl<TransformConfig>>& KeysOf<TransformConfig>() {
  auto key = Key<TransformConfig>;
  static const auto* keys = new std::vector<KeyDecl<TransformConfig>>{
    key("/command", T::kStringList, "The program and its arguments: [\"python3\", "
        "\"/etc/ferry/udf/x.py\"]; the first is looked up in PATH")
        .Required().Range(1, 64).Bind(FERRY_FIELD(command)),
    key("/file", T::kString, "The file sha256 pins; empty: the last element of command")
        .Default("").Bind(FERRY_FIELD(file)),
    key("/sha256", T::kString, "SHA-256 of the file (sha256sum); a different file is a config "
        "error; empty: not pinned")
        .Default("").Check(CheckSha256).Bind(FERRY_FIELD(sha256)),
    key("/sandbox", T::kEnum, "bubblewrap: no network, read-only filesystem but a private "
        "/tmp, own PID namespace, seccomp; none: rlimits only (must be written out)")
        .Default("bubblewrap").OneOf(AllowedNames<platform::Isolation>())
        .Bind(FERRY_FIELD(sandbox)),
    key("/timeout", T::kDuration, "Time a request may take (from the previous answer); past it "
        "the transform is killed and its messages dead-lettered")
        .Default("1s").Range(1, 10 * kMinute).Bind(FERRY_FIELD(timeout_ms)),
    key("/memory", T::kSize, "Address space of the transform's process (RLIMIT_AS)")
        .Default("64MiB").Range(4 * kMiB, int64_t{1} << 40).Bind(FERRY_FIELD(memory)),
    key("/cpu", T::kDuration, "CPU time of one process's life (RLIMIT_CPU, whole seconds); 0s: "
        "none (timeout bounds each request)")
        .Default("0s").Range(0, 365 * kDay).Bind(FERRY_FIELD(cpu_ms)),
    key("/max_output", T::kSize, "Longest reply line; a longer one kills the transform")
        .Default("1MiB").Range(kKiB, 64 * kMiB).Bind(FERRY_FIELD(max_output)),
    key("/max_in_flight", T::kInt, "Requests written and not yet answered at most")
        .Default(256).Range(1, 100'000).Bind(FERRY_FIELD(max_in_flight)),
    key("/max_processes", T::kInt, "Processes the transform may run (RLIMIT_NPROC)")
        .Default(16).Range(1, 4096).Bind(FERRY_FIELD(max_processes)),
    key("/max_file_size", T::kSize, "Largest file the transform may write (RLIMIT_FSIZE)")
        .Default("16MiB").Range(0, int64_t{1} << 40).Bind(FERRY_FIELD(max_file_size)),
    key("/restart_backoff/initial", T::kDuration, "Wait before the first restart after a "
        "failure; doubles with each failure in a row")
        .Default("1s").Range(0, kHour).Bind(FERRY_FIELD(restart_initial_ms)),
    key("/restart_backoff/max", T::kDuration, "Longest wait before a restart")
        .Default("1m").Range(0, kDay).Bind(FERRY_FIELD(restart_max_ms)),
  };
  return *keys;
}
// clang-format on

namespace {

// Routes name declared transforms; pins match their files; the sandbox can be set up here.
void FinishTransforms(const Config& config, Errors* errors) {
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const std::string& name = config.routes[i].transform;
    if (!name.empty() && !config.transforms.contains(name)) {
      errors->push_back("/routes/" + std::to_string(i) + "/transform: no transform \"" + name +
                        "\" in /transforms");
    }
  }
  for (const auto& [name, t] : config.transforms) {
    std::string at = "/transforms/" + EscapePointer(name);
    if (!t.sha256.empty() && !t.command.empty()) {
      std::string file = PinnedFile(t);
      platform::Result<std::string> digest = Sha256OfFile(file);
      if (!digest.ok()) {
        errors->push_back(at + "/sha256: " + digest.status().message());
      } else if (*digest != t.sha256) {
        errors->push_back(at + "/sha256: " + file + " has SHA-256 " + *digest +
                          ", not the pinned " + t.sha256);
      }
    }
    if (platform::Status st = platform::CheckIsolation(t.sandbox); !st.ok()) {
      errors->push_back(at + "/sandbox: \"" + std::string(NameOf(t.sandbox)) +
                        "\" cannot be set up on this host: " + st.message() +
                        " (\"sandbox\": \"none\" runs it without isolation)");
    }
    // The sandbox hides the queue's directory (agent/transform/transform_set.cc).
    std::string queue_dir = platform::DirName(config.storage.path) + "/";
    for (const std::string& arg : t.command) {
      if (t.sandbox == platform::Isolation::kBubblewrap && arg.starts_with(queue_dir)) {
        errors->push_back(at + "/command: " + arg + " lies in the queue's directory " + queue_dir +
                          ", which the sandbox hides; keep transforms elsewhere (/etc/ferry/udf)");
      }
    }
    RequireAtLeast((at + "/restart_backoff/max").c_str(), t.restart_max_ms,
                   (at + "/restart_backoff/initial").c_str(), t.restart_initial_ms, errors);
  }
}

}  // namespace

// Batch size and linger keys left out take the defaults of the upstream's kind.
void FinishUpstreamDefaults(Config* config) {
  Config::Upstream& u = config->upstream;
  bool s3 = s3::IsS3Url(u.url);
  if (u.batch_max_bytes == 0) {
    u.batch_max_bytes =
        s3 ? Config::Upstream::kS3BatchMaxBytes : Config::Upstream::kHttpBatchMaxBytes;
  }
  if (u.batch_linger_ms < 0) {
    u.batch_linger_ms =
        s3 ? Config::Upstream::kS3BatchLingerMs : Config::Upstream::kHttpBatchLingerMs;
  }
}

void FinishConfig(Config* config, Errors* errors) {
  for (size_t i = 0; i < config->routes.size(); ++i) {
    const Route& r = config->routes[i];
    std::string at = "/routes/" + std::to_string(i);
    if (r.explode.path.empty() && !r.explode.carry.empty()) {
      errors->push_back(at + "/explode/carry: needs " + at + "/explode/path");
    }
    if (r.bytes.path.empty() && !r.bytes.fields.empty()) {
      errors->push_back(at + "/bytes/fields: needs " + at + "/bytes/path");
    }
  }
  if (config->mqtt.client_id.empty() && !config->gateway.id.empty()) {
    config->mqtt.client_id = "ferry-" + config->gateway.id;
  }
  FinishUpstreamDefaults(config);
  FinishTransforms(*config, errors);
  RequireAtLeast("/mqtt/reconnect_max", config->mqtt.reconnect_max_ms, "/mqtt/reconnect_min",
                 config->mqtt.reconnect_min_ms, errors);
  if (config->storage.dead_letters_max_size > config->storage.max_size / 2) {
    errors->push_back(
        "/storage/dead_letters/max_size: must be at most half of "
        "/storage/max_size (" +
        FormatSize(config->storage.max_size / 2) + ")");
  }
  RequireAtLeast("/upstream/backoff/max", config->upstream.backoff_max_ms,
                 "/upstream/backoff/initial", config->upstream.backoff_initial_ms, errors);
}

}  // namespace ferry::agent::schema

// The agent's configuration: one JSON file (comments allowed), validated once, handed out as a
// const struct. Every key is declared once in config_schema.cc (type, default, bounds, help);
// the README's option table and `ferry config-reference` come from that declaration.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/enum_names.h"
#include "agent/config/route_options.h"
#include "platform/log.h"
#include "platform/status.h"
#include "platform/subprocess.h"

namespace ferry::agent {

// Settings with a fixed set of values are enums with one table of names each (enum_names.h).
enum class SyncMode { kFull, kNormal };         // storage.sync
enum class FullPolicy { kBlock, kDropOldest };  // storage.full_policy, dead_letters.full_policy

inline constexpr EnumName<SyncMode> kSyncModeNames[] = {{"full", SyncMode::kFull},
                                                        {"normal", SyncMode::kNormal}};
inline constexpr EnumName<FullPolicy> kFullPolicyNames[] = {
    {"block", FullPolicy::kBlock}, {"drop_oldest", FullPolicy::kDropOldest}};

// The table of each enum, found by its type: NamesOf(SyncMode{}).
constexpr std::span<const EnumName<SyncMode>> NamesOf(SyncMode) { return kSyncModeNames; }
constexpr std::span<const EnumName<FullPolicy>> NamesOf(FullPolicy) { return kFullPolicyNames; }

struct Subscription {
  std::string topic;  // MQTT topic filter, wildcards allowed
  int qos = 1;        // 0 or 1
};

// Where a route finds the event time inside the payload (config/README.md, "Event time").
struct TimeRule {
  std::string field;  // payload paths, comma-separated: the first believable wins
  TimeFormat format = TimeFormat::kAuto;
  std::string timezone;  // IANA zone of local times without an offset; "": not believed
  int64_t max_ahead_ms = 24 * 3600 * 1000;  // later than receipt + this: not believed
};

// One message, many records (config/README.md, "Explode").
struct ExplodeRule {
  std::string path;                          // payload path of the array; "": no explode
  std::map<std::string, std::string> carry;  // element field -> enclosing payload path
};

// Name/value pairs to fields (config/README.md, "Pairs").
struct PairsRule {
  std::string path;             // data path of the array of pairs; "": none
  std::string name = "name";    // paths in an element holding the name, comma-separated
  std::string value = "value";  // paths in an element holding the value, comma-separated
  std::string type;             // path in an element holding a type name ("Float32")
  PairsValueType value_type = PairsValueType::kAuto;  // of values without a type name
};

// Binary payloads: a base64 or hex string and fixed-layout fields (config/README.md, "Binary").
struct BytesRule {
  std::string path;  // payload path of the string; "": none
  BytesEncoding encoding = BytesEncoding::kBase64;
  std::map<std::string, std::string> fields;  // name -> "<type> <offset> [<scale>]"
};

// One normalization rule (config/README.md is the reference). Routes are tried in order; the
// first whose topic template (and payload_shape) matches a message applies. With no route
// matching, the default rule applies (payload "auto", no device, receive time).
struct Route {
  std::string topic;  // template: "zigbee2mqtt/{device}", "+" and "#" allowed
  PayloadShape payload_shape = PayloadShape::kAny;
  bool ignore = false;  // matching messages are dropped (counted), not stored
  PayloadMode payload = PayloadMode::kAuto;
  EmptyPayload empty_payload = EmptyPayload::kDeadLetter;
  std::string value_field = "value";  // field name for a scalar payload; may use {captures}
  ValueType value_type = ValueType::kAuto;
  std::string device_field;  // payload paths holding the device id, comma-separated
  TimeRule time;
  std::string data_field;                          // payload path whose value is the data
  std::map<std::string, std::string> null_values;  // path ("*": all) -> sentinels "a,b"
  std::string keep;                                // paths, comma-separated
  std::string drop;                                // paths, comma-separated
  std::map<std::string, std::string> rename;       // path -> new path
  std::map<std::string, std::string> cast;         // path -> int | float | bool | string
  std::map<std::string, std::string> scale;        // path -> factor ("0.001", "1/60")
  std::map<std::string, std::string> offset;       // path -> addend ("-273.15")
  std::string flatten;                             // separator; "": keep the nesting
  std::map<std::string, std::string> labels;       // added to the record's labels; {captures}
  std::map<std::string, std::string> require;      // path -> "number -40..125"
  uint64_t max_payload = 0;                        // bytes, 0: no limit of the route's own
  int max_depth = 0;                               // 0: 128
  uint32_t max_fields = 0;                         // 0: no limit
  std::string device;       // device id template: "{.model}-{.id}", "{domain}.{object_id}"
  std::string decode_json;  // payload paths of strings holding JSON, comma-separated
  ExplodeRule explode;
  PairsRule pairs;
  std::map<std::string, std::string> match;          // payload path -> accepted values "a, b"
  std::map<std::string, std::string> match_pattern;  // payload path -> RE2 pattern
  std::map<std::string, std::string> extract;        // payload path -> RE2 pattern, named groups
  bool scale_first = false;                          // scale and offset before rename and cast
  std::string utc_times;  // data paths of times rewritten as UTC RFC 3339, comma-separated
  BytesRule bytes;
  std::string transform;  // name of a transform in Config::transforms; "": none
};

// A user-defined transform: a co-process fed the route's records over NDJSON (docs/transforms.md,
// config/README.md "Transforms").
struct TransformConfig {
  std::string name;                  // its key in `transforms`
  std::vector<std::string> command;  // argv; argv[0] looked up in PATH
  std::string file;                  // the file sha256 pins; "": the last element of command
  std::string sha256;                // lower-case hex; "": not pinned
  platform::Isolation sandbox = platform::Isolation::kBubblewrap;
  int64_t timeout_ms = 1'000;            // per request
  uint64_t memory = 64ull << 20;         // address space of the process (RLIMIT_AS)
  int64_t cpu_ms = 0;                    // CPU time of one process's life; 0: no limit
  uint64_t max_output = 1ull << 20;      // bytes of one reply line at most
  uint32_t max_in_flight = 256;          // requests written and not yet answered at most
  uint32_t max_processes = 16;           // RLIMIT_NPROC
  uint64_t max_file_size = 16ull << 20;  // RLIMIT_FSIZE
  int64_t restart_initial_ms = 1'000;    // first wait before a restart
  int64_t restart_max_ms = 60'000;       // longest wait between restarts
};

// TLS settings of one connection (the broker, the landing zone).
struct TlsOptions {
  bool enabled = false;  // MQTT only: https URLs always use TLS
  std::string ca_file;
  std::string ca_dir;
  std::string cert_file;
  std::string key_file;
  bool verify = true;
};

struct Config {
  struct Gateway {
    std::string id;  // 1-64 of [A-Za-z0-9_-]
    std::map<std::string, std::string> labels;
  } gateway;

  struct Storage {
    std::string path = "/var/lib/ferry/queue.db";
    uint64_t max_size = 256ull << 20;    // bytes on disk, database and WAL together
    SyncMode sync = SyncMode::kFull;     // full: fsync each commit before PUBACK; normal: WAL only
    uint32_t commit_max_records = 1024;  // records per group commit at most
    int64_t commit_interval_ms = 1000;   // longest wait to gather a group at low rates
    int64_t commit_interval_qos1_ms = 30'000;  // the same for a group of only QoS 1 messages
    int compression_level = 3;                 // zstd level of stored blocks, 1-19
    FullPolicy full_policy = FullPolicy::kBlock;
    int64_t max_age_ms = 0;              // 0: records never expire
    uint64_t dead_letters_max_size = 0;  // bytes of dead letters at most; 0: max_size / 4
    FullPolicy dead_letters_full_policy = FullPolicy::kDropOldest;
  } storage;

  struct Mqtt {
    std::string host = "127.0.0.1";
    int port = 1883;
    std::string client_id;  // default "ferry-<gateway.id>"
    int64_t keepalive_ms = 30'000;
    std::vector<Subscription> subscriptions;
    std::string username;
    std::string password;
    std::string password_file;
    TlsOptions tls;
    int64_t reconnect_min_ms = 500;
    int64_t reconnect_max_ms = 30'000;
    uint64_t max_payload = 1ull << 20;  // bytes; larger messages are dead-lettered
  } mqtt;

  struct Upstream {
    std::string url;  // http(s)://host[:port]/path, or s3://bucket[/prefix]
    std::string token;
    std::string token_file;
    TlsOptions tls;
    int64_t timeout_ms = 30'000;
    uint32_t batch_max_records = 50'000;
    // Uncompressed NDJSON bytes per batch, and the longest wait to fill one; the defaults
    // depend on the kind of upstream (kHttpBatch..., kS3Batch...).
    uint64_t batch_max_bytes = kHttpBatchMaxBytes;
    int64_t batch_linger_ms = kHttpBatchLingerMs;
    int compression_level = 3;  // zstd level for request bodies, 0 = no compression
    int64_t backoff_initial_ms = 1'000;
    int64_t backoff_max_ms = 60'000;
    uint32_t breaker_failures = 3;      // failures in a row that open the breaker
    int64_t breaker_probe_ms = 2'000;   // probe interval while open
    uint64_t max_bytes_per_second = 0;  // 0: no bandwidth cap
    int64_t shutdown_grace_ms = 5'000;
    // An s3:// upstream (README, "Landing in object storage").
    struct S3 {
      std::string region = "us-east-1";  // signing region
      std::string endpoint;              // http(s)://HOST[:PORT]; "" = AWS in `region`
      std::string credentials_file;      // AWS shared credentials file; "" = AWS_* environment
      bool path_style = false;           // ENDPOINT/BUCKET/KEY instead of BUCKET.HOST/KEY
    } s3;

    static constexpr uint64_t kHttpBatchMaxBytes = 8ull << 20;
    static constexpr int64_t kHttpBatchLingerMs = 1'000;
    // An object per second per gateway would be millions of small files a day: S3 batches wait
    // longer and grow larger.
    static constexpr uint64_t kS3BatchMaxBytes = 32ull << 20;
    static constexpr int64_t kS3BatchLingerMs = 60'000;
  } upstream;

  struct StatusServer {
    std::string listen = "127.0.0.1:7070";  // HOST:PORT; port 0 = pick a free one
    std::string token;                      // required by mutating endpoints when not on loopback
  } status;

  struct Log {
    platform::LogLevel level = platform::LogLevel::kInfo;
    platform::LogFormat format = platform::LogFormat::kText;
  } log;

  std::vector<Route> routes;
  std::map<std::string, TransformConfig> transforms;  // by name
};

// Parses and validates config text. Errors name the key by its JSON pointer path and say what
// is allowed: "/upstream/batch/max_records: must be between 1 and 1000000". kInvalidArgument.
// JSON comments (// and /* */) are allowed. Every problem found is reported, one per line of
// the message: unknown keys ("/upstream/batchx: unknown key"), wrong types ("/mqtt/port:
// expected an integer"), values out of bounds, missing required keys ("/gateway/id:
// required"), a member name repeated in one object ("/mqtt/port: duplicate key"). A syntax
// error is reported alone as "line 3, column 7: syntax error ...".
// Absent keys take their declared defaults; mqtt.client_id defaults to "ferry-<gateway.id>".
// Never throws.
platform::Result<Config> ParseConfig(std::string_view text);

// Reads and parses the file at `path`. Every line of an error message starts with "<path>: ".
// A file that cannot be read keeps platform::ReadFile's code (kNotFound, kIoError); an invalid
// config is kInvalidArgument. Never throws.
platform::Result<Config> LoadConfig(const std::string& path);

// Reads upstream.token_file and mqtt.password_file into upstream.token and mqtt.password
// (surrounding white space removed). kInvalidArgument naming the key when a file cannot be read
// or is empty; both a secret and its file set is an error too. Also checks the TLS files of
// mqtt.tls and upstream.tls: each one set must be a readable PEM file (ca_dir a directory), and
// cert_file and key_file go together.
platform::Status ResolveSecrets(Config* config);

// Parses "250ms", "30s", "5m", "2h", "7d" into milliseconds; false if malformed.
// The form is a non-negative integer immediately followed by one of ms, s, m, h, d: no sign,
// no fraction, no spaces. False (and *ms untouched) for anything else or past INT64_MAX ms.
bool ParseDuration(std::string_view text, int64_t* ms);
// Parses "512", "512KiB", "64MiB", "1GiB" (also KB/MB/GB as powers of 1000) into bytes.
// Units are case-sensitive; no sign, fraction or spaces. False (and *bytes untouched) for
// anything else or past UINT64_MAX bytes.
bool ParseSize(std::string_view text, uint64_t* bytes);

// The inverses, for logs, /status and the reference: the largest unit that divides the value
// exactly ("90s" stays "90s", 3'600'000 is "1h", 1 << 20 is "1MiB", 1500 is "1500").
// ParseDuration(FormatDuration(ms)) == ms for every ms >= 0; likewise for sizes.
std::string FormatDuration(int64_t ms);
std::string FormatSize(uint64_t bytes);

// Splits "HOST:PORT" (status.listen). HOST is a name, an IPv4 address or a bracketed IPv6
// address ("[::1]:7070", returned without brackets); PORT is 0-65535. False if malformed.
bool SplitHostPort(std::string_view text, std::string* host, int* port);

// An upstream URL taken apart for the HTTP client.
struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  int port = 0;        // explicit port, else 80 or 443
  std::string path;    // path and query, "/" when the URL has none
};
// Accepts http://HOST[:PORT][/PATH] and https://...; the scheme is lower case, HOST is
// non-empty, PORT 1-65535, no user info, fragment or white space. False otherwise.
bool ParseHttpUrl(std::string_view text, HttpUrl* url);

// Every declared key as a JSON pointer path, in declaration order. List items appear as
// "/mqtt/subscriptions/*/topic". Never fails.
std::vector<std::string> ConfigKeyPaths();

// The option reference as a Markdown table (key, type, default, allowed values, description),
// generated from the same declaration the parser uses: for the README and
// `ferry config-reference`. Never fails.
std::string ConfigReferenceMarkdown();

// The config as a JSON Schema (draft 2020-12) document, generated from the same declaration:
// nested objects, types, enums, integer bounds, defaults, duration and size patterns, and each
// key's help as its description. Shipped as config/ferry.schema.json (`ferry config-schema`,
// `make schema`). Never fails.
std::string ConfigJsonSchema();

}  // namespace ferry::agent

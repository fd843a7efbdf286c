#include "agent/landing/s3_store.h"

#include "agent/s3/s3_location.h"
#include "platform/log.h"

namespace ferry::landing {

using platform::Status;

S3Store::S3Store(const s3::S3ClientOptions& client, std::string prefix,
                 const s3::CredentialsSource& credentials, platform::Clock& clock)
    : client_options_(client),
      prefix_(std::move(prefix)),
      credentials_(credentials),
      clock_(clock) {}

platform::Result<std::unique_ptr<S3Store>> S3Store::Open(const s3::S3ClientOptions& client,
                                                         std::string prefix,
                                                         const s3::CredentialsSource& credentials,
                                                         platform::Clock& clock) {
  std::unique_ptr<S3Store> store(new S3Store(client, std::move(prefix), credentials, clock));
  auto c = store->Acquire();
  if (!c.ok()) return c.status();
  s3::S3Response r = (*c)->HeadBucket();
  std::string why = s3::Describe(r, (*c)->Where(), clock.WallMillis());
  s3::S3Problem problem = s3::Classify(r);
  if (problem == s3::S3Problem::kRetry) {
    platform::LogWarn("landing", "bucket not reachable yet: " + why);
  } else if (problem != s3::S3Problem::kNone) {
    return Status::InvalidArgument(why);
  }
  store->Release(std::move(c).value());
  return store;
}

std::string S3Store::Describe() const {
  return "bucket " + client_options_.bucket + (prefix_.empty() ? "" : "/" + prefix_) + " at " +
         (client_options_.endpoint.empty() ? "AWS " + client_options_.region
                                           : client_options_.endpoint);
}

platform::Result<std::unique_ptr<s3::S3Client>> S3Store::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<s3::S3Client> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return s3::S3Client::Create(client_options_, credentials_);
}

void S3Store::Release(std::unique_ptr<s3::S3Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(client));
}

Status S3Store::Failure(const char* what, const std::string& object_key, const s3::S3Response& r,
                        const s3::S3Client& client) const {
  std::string why = std::string(what) + " " + object_key + ": " +
                    s3::Describe(r, client.Where(), clock_.WallMillis());
  if (s3::Classify(r) == s3::S3Problem::kRetry) return Status::Unavailable(why);
  return Status::IoError(why);
}

platform::Result<Store::Outcome> S3Store::Put(const BatchKey& key, std::string_view date,
                                              std::string_view data, uint64_t records,
                                              std::string* object_key) {
  KeyLocks::Hold hold(key_locks_, key.text);
  std::string name = s3::ObjectKey(prefix_, key.gateway, date, key.text);
  auto client = Acquire();
  if (!client.ok()) return client.status();
  s3::S3Client& c = **client;
  s3::S3Response head = c.Head(name);
  if (head.status == 200) {
    Release(std::move(client).value());
    return Outcome::kDuplicate;
  }
  if (head.status != 404) {
    Status st = Failure("HEAD", name, head, c);
    Release(std::move(client).value());
    return st;
  }
  s3::S3Response put = c.Put(name, data, "application/x-ndjson",
                             {{"ferry-records", std::to_string(records)},
                              {"ferry-schema", "1"},
                              {"ferry-gateway", key.gateway}});
  Status st = put.status == 200 ? Status::Ok() : Failure("PUT", name, put, c);
  Release(std::move(client).value());
  if (!st.ok()) return st;
  if (object_key != nullptr) *object_key = std::move(name);
  return Outcome::kStored;
}

}  // namespace ferry::landing

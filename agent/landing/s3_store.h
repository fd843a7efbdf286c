// The bucket store of ferry-landing --store s3://bucket/prefix: each accepted batch becomes the
// object <prefix>/gateway=<gateway>/dt=<date>/<Idempotency-Key>.ndjson.zst with metadata
// ferry-records, ferry-schema and ferry-gateway (landing-protocol.md, "Landing in object
// storage"). A HEAD before the PUT finds a key stored before (kDuplicate).
//
// It keeps no state of its own, so any number of instances may serve one bucket behind a load
// balancer: two instances that race on one key both PUT the same bytes under the same name, and
// the object holds the batch once. Within one process, calls for one key are serialized.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/landing/key_lock.h"
#include "agent/landing/store.h"
#include "agent/s3/credentials.h"
#include "agent/s3/s3_client.h"
#include "platform/clock.h"

namespace ferry::landing {

class S3Store : public Store {
 public:
  // Checks the bucket with a HEAD. kInvalidArgument when it does not exist, the credentials are
  // refused or the clock is too far off (the message says what to do); a store that does not
  // answer is only logged (the receiver answers 503 until it does). `credentials` and `clock`
  // must outlive the store.
  static platform::Result<std::unique_ptr<S3Store>> Open(const s3::S3ClientOptions& client,
                                                         std::string prefix,
                                                         const s3::CredentialsSource& credentials,
                                                         platform::Clock& clock);

  // Store::Put. Errors: kUnavailable when S3 does not answer, answers 5xx or SlowDown (worth a
  // retry); kIoError for any other refusal (auth, clock, missing bucket), logged with what to do.
  platform::Result<Outcome> Put(const BatchKey& key, std::string_view date, std::string_view data,
                                uint64_t records, std::string* object_key) override;
  std::string Describe() const override;

 private:
  S3Store(const s3::S3ClientOptions& client, std::string prefix,
          const s3::CredentialsSource& credentials, platform::Clock& clock);
  // A client for this thread's request (one per concurrent request, kept for reuse).
  platform::Result<std::unique_ptr<s3::S3Client>> Acquire();
  void Release(std::unique_ptr<s3::S3Client> client);
  platform::Status Failure(const char* what, const std::string& object_key, const s3::S3Response& r,
                           const s3::S3Client& client) const;

  const s3::S3ClientOptions client_options_;
  const std::string prefix_;
  const s3::CredentialsSource& credentials_;
  platform::Clock& clock_;
  KeyLocks key_locks_;
  std::mutex mu_;
  std::vector<std::unique_ptr<s3::S3Client>> idle_;  // guarded by mu_
};

}  // namespace ferry::landing

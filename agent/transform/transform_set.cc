#include "agent/transform/transform_set.h"

#include "agent/transform/pin.h"
#include "platform/file.h"

namespace ferry::agent {

std::string StateDirOf(const std::string& storage_path) { return platform::DirName(storage_path); }

namespace {

// What a sandboxed transform must not read: the queue and the files holding secrets.
std::vector<std::string> HiddenPaths(const Config& c) {
  std::vector<std::string> out = {platform::DirName(c.storage.path), c.storage.path};
  for (const std::string* p :
       {&c.mqtt.password_file, &c.upstream.token_file, &c.upstream.s3.credentials_file,
        &c.mqtt.tls.key_file, &c.upstream.tls.key_file}) {
    if (!p->empty()) out.push_back(*p);
  }
  return out;
}

}  // namespace

TransformSet::TransformSet(const Config& config, const std::string& state_dir,
                           platform::Clock& clock)
    : clock_(clock) {
  std::vector<std::string> hidden = HiddenPaths(config);
  for (const auto& [name, t] : config.transforms) {
    Entry e;
    e.runner =
        std::make_unique<TransformRunner>(t, state_dir + "/transforms/" + name, clock, hidden);
    e.pin = t.sha256;
    if (e.pin.empty()) {
      platform::Result<std::string> digest = Sha256OfFile(PinnedFile(t));
      if (digest.ok()) e.pin = *digest;
    }
    runners_.emplace(name, std::move(e));
  }
  for (const Route& route : config.routes) {
    auto it = runners_.find(route.transform);
    by_route_.push_back(it == runners_.end() ? nullptr : it->second.runner.get());
  }
}

void TransformSet::StartAll() const {
  for (const auto& [name, e] : runners_) (void)e.runner->Start();
}

TransformRunner* TransformSet::ForRoute(int route) const {
  if (route < 0 || static_cast<size_t>(route) >= by_route_.size()) return nullptr;
  return by_route_[route];
}

const std::string& TransformSet::PinOf(const TransformRunner* runner) const {
  static const std::string kNone;
  auto it = runners_.find(runner->config().name);
  return it == runners_.end() ? kNone : it->second.pin;
}

std::vector<TransformInfo> TransformSet::Info() const {
  std::vector<TransformInfo> out;
  for (const auto& [name, e] : runners_) {
    out.push_back({&e.runner->config(), e.pin, e.runner->Stats()});
  }
  return out;
}

}  // namespace ferry::agent

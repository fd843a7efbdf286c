// CheckIsolation: can this host set up the sandbox, and if not, why and what to do.
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "platform/process.h"
#include "platform/subprocess.h"
#include "platform/subprocess_child.h"

namespace ferry::platform {
namespace {

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Why the kernel or the service manager may refuse the namespaces bwrap makes; `said` is what
// bwrap said.
std::string Diagnose(const std::string& said) {
  bool systemd = !GetEnv("INVOCATION_ID").empty();
  if (said.find("mount proc") != std::string::npos)
    return std::string(
               "the kernel refuses the sandbox its own /proc because read-only or hidepid "
               "mounts cover parts of this one") +
           (systemd ? ": remove ProtectKernelTunables= and ProtectProc= from the systemd unit "
                      "(see ferry.service)"
                    : "");
  if (ReadFirstLine("/proc/sys/kernel/unprivileged_userns_clone") == "0")
    return "user namespaces are disabled: sysctl -w kernel.unprivileged_userns_clone=1 "
           "(and in /etc/sysctl.d/ to keep it)";
  if (ReadFirstLine("/proc/sys/user/max_user_namespaces") == "0")
    return "user namespaces are disabled: sysctl -w user.max_user_namespaces=15000 "
           "(and in /etc/sysctl.d/ to keep it)";
  if (ReadFirstLine("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
    return "AppArmor restricts unprivileged user namespaces "
           "(kernel.apparmor_restrict_unprivileged_userns=1): give bwrap an AppArmor profile "
           "that allows userns, or set the sysctl to 0";
  if (systemd)
    return "running under a systemd unit that may forbid it: the unit needs "
           "RestrictNamespaces=user pid net mnt ipc uts cgroup (or none), AF_NETLINK in "
           "RestrictAddressFamilies=, and @mount in SystemCallFilter= (see ferry.service)";
  return "see bwrap's message";
}

// Runs a sandboxed `true` and collects what bwrap said on stderr.
Status TryBubblewrap() {
  char dir_template[] = "/tmp/ferry-sandbox-check-XXXXXX";
  if (mkdtemp(dir_template) == nullptr)
    return Status::IoError(std::string("mkdtemp: ") + strerror(errno));
  std::string dir = dir_template;
  SpawnOptions options;
  options.argv = {"true"};
  options.private_dir = dir;
  Result<ChildProcess> child = Spawn(options);
  if (!child.ok()) {
    rmdir(dir.c_str());
    return child.status();
  }
  std::string err, how;
  char buf[512];
  bool eof = false;
  for (int i = 0; i < 500 && !Reaped(&*child, &how); ++i) {
    if (eof) {
      usleep(10'000);
      continue;
    }
    pollfd p{child->stderr_fd, POLLIN, 0};
    poll(&p, 1, 10);
    ssize_t n = read(child->stderr_fd, buf, sizeof buf);
    if (n > 0 && err.size() < 2048) err.append(buf, static_cast<size_t>(n));
    eof = n == 0;
  }
  ssize_t n;
  while ((n = read(child->stderr_fd, buf, sizeof buf)) > 0 && err.size() < 2048)
    err.append(buf, static_cast<size_t>(n));
  bool ended = child->pid < 0;
  Kill(&*child);
  rmdir(dir.c_str());
  if (ended && how == "exit 0") return Status::Ok();
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  return Status::Unavailable("bwrap " + (ended ? how : std::string("did not finish in 5 s")) +
                             (err.empty() ? "" : ": " + err));
}

}  // namespace

Status CheckIsolation(Isolation isolation) {
  if (isolation == Isolation::kNone) return Status::Ok();
  if (!internal::FindExecutable("bwrap").ok())
    return Status::Unavailable(
        "the sandbox needs bubblewrap, which is not installed: apt install bubblewrap "
        "(or set \"sandbox\": \"none\" on the transform to run it without isolation)");
  Status tried = TryBubblewrap();
  if (tried.ok()) return tried;
  return Status::Unavailable("the sandbox cannot be set up on this host: " + tried.message() +
                             "; " + Diagnose(tried.message()) +
                             " (or set \"sandbox\": \"none\" on the transform to run it "
                             "without isolation)");
}

}  // namespace ferry::platform

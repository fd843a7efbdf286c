// Internal to subprocess.cc and sandbox.cc: what the forked child does before exec, prepared in
// full by the parent so that the child needs no allocation and no lock.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "platform/status.h"
#include "platform/subprocess.h"

namespace ferry::platform::internal {

struct ChildPlan {
  std::string exe;                // absolute path passed to execve
  std::vector<std::string> args;  // argv
  std::vector<std::string> env;   // "K=V"
  std::string cwd;                // chdir before exec; "" for none
  ProcessLimits limits;           // set before exec (max_processes only if set_nproc)
  bool set_nproc = true;
  bool drop_to_nobody = false;  // setgroups/setresgid/setresuid 65534 (root running bwrap)
  int stdin_fd = -1;            // child's ends, become 0, 1, 2
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Passed on as fds 3, 4, ... in this order (for bwrap: the seccomp program, directories to
  // bind). At most kMaxExtraFds; each must be >= kFirstHighFd.
  std::vector<int> extra_fds;
};

inline constexpr int kMaxExtraFds = 16;
// The fds the parent hands to ForkExec sit at or above this, so the child's dup2s onto 0-19 never
// overwrite one it still has to move.
inline constexpr int kFirstHighFd = 100;

// Forks and execs `plan`; the child gets its own process group and SIGKILL when the calling
// thread ends. Returns the pid once exec succeeded; an exec failure comes back as kIoError
// (kNotFound for ENOENT) with errno's text.
Result<pid_t> ForkExec(const ChildPlan& plan);

// Looks `name` up in PATH unless it contains a '/'. kNotFound when it is nowhere.
Result<std::string> FindExecutable(const std::string& name);

// A file descriptor (O_CLOEXEC) holding the seccomp BPF program bwrap --seccomp reads, or an
// error from libseccomp. A new descriptor each call: bwrap reads it to the end.
Result<int> SeccompProgramFd();

// A directory bwrap binds from an open fd (the child's number) at `dest`.
struct FdBind {
  int fd = -1;
  std::string dest;
  bool writable = false;
};

// The bwrap command line for running `command` (resolved) with `options`: the seccomp program
// is read from fd 3; binds[0] is the private directory (on /tmp), made before the hidden paths
// are covered, the other binds after. `prlimit` is the path of prlimit(1), used when max_processes
// is set.
std::vector<std::string> BubblewrapArgs(const std::string& bwrap, const std::string& prlimit,
                                        const std::vector<std::string>& command,
                                        const std::vector<FdBind>& binds,
                                        const SpawnOptions& options);

}  // namespace ferry::platform::internal

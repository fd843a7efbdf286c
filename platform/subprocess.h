// Child processes for transforms: a command started with pipes on its stdin, stdout and stderr,
// resource limits, and (by default) a bubblewrap sandbox with a seccomp filter.
//
// Thread-safety: the functions are safe to call from any thread; one ChildProcess must not be
// used by two threads at once. Spawn is safe in a multi-threaded process: everything is prepared
// before the fork, and the child only makes async-signal-safe system calls until it execs.
//
// The child dies with the parent. Linux's PR_SET_PDEATHSIG fires when the *thread* that called
// Spawn ends, not the process: spawn from a thread that lives as long as the child should.
//
// SIGPIPE: writing to stdin_fd after the child closed its stdin raises SIGPIPE in the writer.
// The agent ignores SIGPIPE (BlockProcessSignals), so such a write fails with EPIPE; other
// programs using this must ignore SIGPIPE too. In the child every signal is reset to its default
// and unblocked.
//
// Environment: the child does not inherit the parent's environment (it may hold secrets). It gets
// PATH (the parent's), HOME and TMPDIR (its private directory), LANG=C.UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/status.h"

namespace ferry::platform {

enum class Isolation {
  kNone,        // fork/exec with rlimits, own process group, no_new_privs; nothing else
  kBubblewrap,  // bwrap: no network, read-only fs, user/pid/ipc/uts namespaces, seccomp, rlimits
};

struct ProcessLimits {
  uint64_t address_space_bytes = 0;  // RLIMIT_AS; 0: unlimited
  uint64_t cpu_seconds = 0;  // RLIMIT_CPU: SIGXCPU then, SIGKILL a second later; 0: unlimited
  // RLIMIT_NPROC; 0: unlimited. Under bubblewrap it counts the processes inside the sandbox (it
  // is set inside the new user namespace). Without isolation it counts every process and thread
  // of the user Ferry runs as, and does not bind root at all.
  uint64_t max_processes = 0;
  uint64_t max_file_bytes = 0;  // RLIMIT_FSIZE (SIGXFSZ); 0: unlimited
};

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] looked up in PATH unless it holds a '/'
  Isolation isolation = Isolation::kBubblewrap;
  ProcessLimits limits;
  // Host directory, created (mode 0700) if missing: the child's cwd, and under bubblewrap its
  // writable /tmp (the host's /tmp is not seen; files named in argv that lie under /tmp have
  // their directory bound back, read-only, at the same path). Required.
  // When Ferry runs as root, the sandboxed child runs as nobody (65534) outside the sandbox too
  // (a root mapped into the sandbox would own root's files): the directory is handed to nobody,
  // and Spawn refuses (kUnavailable, naming the directory) when nobody cannot reach it or read
  // a file named in argv.
  std::string private_dir;
  // Host paths the sandbox must not see (the queue directory, files holding secrets): under
  // bubblewrap a directory is covered by an empty tmpfs, a file by /dev/null (which cannot be
  // opened there: device nodes do not work in the sandbox's user namespace). Paths that do not
  // exist, and those under /tmp (not seen anyway), are left alone. Files named in argv that lie
  // in a hidden directory have their own directory bound back. Ignored without isolation.
  std::vector<std::string> hidden_paths;
};

struct ChildProcess {
  int pid = -1;        // the child (under bubblewrap: bwrap itself); -1 once reaped or killed
  int stdin_fd = -1;   // parent's write end, O_NONBLOCK|O_CLOEXEC
  int stdout_fd = -1;  // parent's read end, O_NONBLOCK|O_CLOEXEC
  int stderr_fd = -1;  // parent's read end, O_NONBLOCK|O_CLOEXEC
  // For /status: "bubblewrap (no network, read-only fs, pid ns) + seccomp + rlimits",
  // "none + rlimits", "none".
  std::string isolation;
};

// Starts options.argv. Errors: kInvalidArgument (empty argv or private_dir), kNotFound (argv[0]
// not in PATH, or bwrap missing), kIoError (pipes, the private directory, fork, exec failed: the
// message names the system call and errno), kUnavailable (the sandbox cannot be set up here:
// the message of CheckIsolation). An exec failure is reported here, not as an exit code.
Result<ChildProcess> Spawn(const SpawnOptions& options);

// Whether this host can set up `isolation`, by starting a sandboxed /bin/true. kNone is always
// OK. The error says why not and what to do: bwrap missing ("apt install bubblewrap"), user
// namespaces disabled (which sysctl), a systemd unit forbidding namespaces (which directive).
// Takes tens of milliseconds; call it once per config, not per message.
Status CheckIsolation(Isolation isolation);

// SIGKILLs the child and everything it started (its process group; under bubblewrap its PID
// namespace too), reaps it, waits up to about a second for the rest of the group to be gone, and
// closes the fds (set to -1). Safe on a child already reaped or killed, and on a default one.
void Kill(ChildProcess* child);

// Non-blocking: true once the child has ended; `how_it_ended` (may be null) gets "exit 3" or
// "killed by signal 9" (under bubblewrap a command killed by a signal shows as
// "exit 137 (signal 9)", as bwrap reports it). Anything the child left running in its process
// group is killed then. pid becomes -1; the fds stay open (output may still be buffered in the
// pipes) until Kill. Once reaped, later calls return true and leave how_it_ended alone.
bool Reaped(ChildProcess* child, std::string* how_it_ended);

}  // namespace ferry::platform

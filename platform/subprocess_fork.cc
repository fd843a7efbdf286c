// ForkExec: the only code that runs between fork and exec. The child makes raw system calls and
// nothing else: the agent is multi-threaded, so another thread may hold malloc's or a library's
// lock at the moment of the fork. _Fork (glibc 2.34) skips the pthread_atfork handlers, which
// libraries register and which need not be async-signal-safe.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "platform/subprocess_child.h"

namespace ferry::platform::internal {
namespace {

constexpr uid_t kNobody = 65534;

pid_t ForkNoHandlers() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  return _Fork();
#else
  return fork();
#endif
}

// Raw system calls: glibc's setuid family signals every thread of the process (setxid), which is
// neither needed nor safe in the forked child.
bool DropToNobody() {
#ifdef SYS_setresuid32
  long setgroups_nr = SYS_setgroups32, setresgid_nr = SYS_setresgid32,
       setresuid_nr = SYS_setresuid32;
#else
  long setgroups_nr = SYS_setgroups, setresgid_nr = SYS_setresgid, setresuid_nr = SYS_setresuid;
#endif
  return syscall(setgroups_nr, 0, nullptr) == 0 &&
         syscall(setresgid_nr, kNobody, kNobody, kNobody) == 0 &&
         syscall(setresuid_nr, kNobody, kNobody, kNobody) == 0;
}

// The hard limit is `hard_extra` above the soft one (CPU: SIGXCPU first, SIGKILL a second on).
bool SetLimit(int resource, uint64_t value, uint64_t hard_extra = 0) {
  if (value == 0) return true;
  rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value + hard_extra)};
  return setrlimit(resource, &limit) == 0;
}

void CloseFrom(int first) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, first, ~0U, 0) == 0) return;
#endif
  rlimit nofile{};
  int max = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536
                ? static_cast<int>(nofile.rlim_cur)
                : 65536;
  for (int fd = first; fd < max; ++fd) close(fd);
}

// Tells the parent why the child failed and ends it. `step` is a static string.
[[noreturn]] void Fail(int report_fd, const char* step) {
  int err = errno;
  char buf[64];
  size_t n = 0;
  memcpy(buf, &err, sizeof err);
  n += sizeof err;
  for (const char* p = step; *p && n < sizeof buf; ++p) buf[n++] = *p;
  ssize_t ignored = write(report_fd, buf, n);
  (void)ignored;
  _exit(127);
}

[[noreturn]] void RunChild(const ChildPlan& plan, char* const* argv, char* const* envp,
                           pid_t parent, int report_fd) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // fails for KILL, STOP
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (setpgid(0, 0) != 0) Fail(report_fd, "setpgid");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(report_fd, "prctl(PR_SET_PDEATHSIG)");
  if (getppid() != parent) _exit(127);  // the parent died before the line above
  // The report pipe must survive the dup2s and CloseFrom: it goes right after the extra fds.
  int extra = static_cast<int>(plan.extra_fds.size());
  if (dup3(report_fd, 3 + extra, O_CLOEXEC) < 0) Fail(report_fd, "dup3");
  report_fd = 3 + extra;
  if (dup2(plan.stdin_fd, 0) < 0 || dup2(plan.stdout_fd, 1) < 0 || dup2(plan.stderr_fd, 2) < 0)
    Fail(report_fd, "dup2");
  for (int i = 0; i < extra; ++i)
    if (dup2(plan.extra_fds[static_cast<size_t>(i)], 3 + i) < 0) Fail(report_fd, "dup2");
  CloseFrom(report_fd + 1);
  if (!plan.cwd.empty() && chdir(plan.cwd.c_str()) != 0) Fail(report_fd, "chdir");
  if (!SetLimit(RLIMIT_AS, plan.limits.address_space_bytes) ||
      !SetLimit(RLIMIT_CPU, plan.limits.cpu_seconds, 1) ||
      !SetLimit(RLIMIT_FSIZE, plan.limits.max_file_bytes) ||
      (plan.set_nproc && !SetLimit(RLIMIT_NPROC, plan.limits.max_processes)))
    Fail(report_fd, "setrlimit");
  if (plan.drop_to_nobody && !DropToNobody()) Fail(report_fd, "dropping to nobody");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(report_fd, "prctl(PR_SET_NO_NEW_PRIVS)");
  execve(plan.exe.c_str(), argv, envp);
  Fail(report_fd, "execve");
}

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Reads the child's report: empty once exec succeeded (the pipe closed on exec).
Status ReadReport(int fd, pid_t pid, const std::string& exe) {
  char buf[64];
  ssize_t n;
  do {
    n = read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return Status::Ok();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int err = 0;
  if (static_cast<size_t>(n) >= sizeof err) memcpy(&err, buf, sizeof err);
  std::string step(buf + sizeof err, static_cast<size_t>(n) - sizeof err);
  std::string message = "starting " + exe + ": " + step + ": " + strerror(err);
  return err == ENOENT ? Status::NotFound(message) : Status::IoError(message);
}

}  // namespace

Result<pid_t> ForkExec(const ChildPlan& plan) {
  std::vector<char*> argv = Pointers(plan.args);
  std::vector<char*> envp = Pointers(plan.env);
  int report[2];
  if (plan.extra_fds.size() > kMaxExtraFds)
    return Status::InvalidArgument("too many files to hand to the child");
  if (pipe2(report, O_CLOEXEC) != 0)
    return Status::IoError(std::string("pipe2: ") + strerror(errno));
  // Above the numbers the child moves things to, so no dup2 there clobbers it.
  int high = fcntl(report[1], F_DUPFD_CLOEXEC, kFirstHighFd);
  close(report[1]);
  if (high < 0) {
    close(report[0]);
    return Status::IoError(std::string("fcntl: ") + strerror(errno));
  }
  report[1] = high;
  pid_t parent = getpid();
  pid_t pid = ForkNoHandlers();
  if (pid == 0) {
    close(report[0]);
    RunChild(plan, argv.data(), envp.data(), parent, report[1]);
  }
  int fork_errno = errno;
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return Status::IoError(std::string("fork: ") + strerror(fork_errno));
  }
  setpgid(pid, pid);  // also in the parent, so Kill finds the group even before the child ran
  Status status = ReadReport(report[0], pid, plan.exe);
  close(report[0]);
  if (!status.ok()) return status;
  return pid;
}

Result<std::string> FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return Status::NotFound(name + ": " + strerror(errno));
  }
  const char* path = getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return Status::NotFound(name + " not found in PATH (" + dirs + ")");
}

}  // namespace ferry::platform::internal

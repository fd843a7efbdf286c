#include "platform/subprocess.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "platform/subprocess_child.h"

namespace ferry::platform {
namespace {

using internal::ChildPlan;

constexpr uid_t kNobody = 65534;

// A pipe whose ends are at kFirstHighFd or above (see ForkExec) and close on exec.
struct Pipe {
  int read = -1;
  int write = -1;
};

int Raise(int fd) {
  if (fd < 0) return fd;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, internal::kFirstHighFd);
  close(fd);
  return high;
}

Result<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IoError(std::string("pipe2: ") + strerror(errno));
  Pipe p{Raise(fds[0]), Raise(fds[1])};
  if (p.read < 0 || p.write < 0) {
    if (p.read >= 0) close(p.read);
    if (p.write >= 0) close(p.write);
    return Status::IoError(std::string("fcntl(F_DUPFD_CLOEXEC): ") + strerror(errno));
  }
  return p;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

Status MakePrivateDir(const std::string& dir, bool for_nobody) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("creating " + dir + ": " + ec.message());
  if (chmod(dir.c_str(), 0700) != 0)
    return Status::IoError("chmod " + dir + ": " + strerror(errno));
  if (for_nobody && chown(dir.c_str(), kNobody, kNobody) != 0)
    return Status::IoError("chown " + dir + " to nobody: " + strerror(errno));
  return Status::Ok();
}

std::vector<std::string> ChildEnvironment(const std::string& home) {
  const char* path = getenv("PATH");
  return {std::string("PATH=") + (path && *path ? path : "/usr/local/bin:/usr/bin:/bin"),
          "HOME=" + home, "TMPDIR=" + home, "LANG=C.UTF-8"};
}

bool AnyLimit(const ProcessLimits& l) {
  return l.address_space_bytes || l.cpu_seconds || l.max_processes || l.max_file_bytes;
}

// The plan for Isolation::kNone: the command itself, cwd the private directory.
Result<ChildPlan> PlanNone(const SpawnOptions& options) {
  Result<std::string> exe = internal::FindExecutable(options.argv[0]);
  if (!exe.ok()) return exe.status();
  FERRY_RETURN_IF_ERROR(MakePrivateDir(options.private_dir, false));
  ChildPlan plan;
  plan.exe = *exe;
  plan.args = options.argv;
  plan.env = ChildEnvironment(options.private_dir);
  plan.cwd = options.private_dir;
  plan.limits = options.limits;
  return plan;
}

bool Under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (dir.back() == '/' || path[dir.size()] == '/');
}

// Files named on the command line that the sandbox would not show: under /tmp (the private /tmp
// replaces it) or under a hidden directory. Their directories are bound back, read-only, at the
// same paths.
std::vector<std::string> DirectoriesToBindBack(const std::vector<std::string>& command,
                                               const std::vector<std::string>& hidden) {
  std::vector<std::string> dirs;
  for (const std::string& arg : command) {
    struct stat st {};
    if (arg.empty() || arg[0] != '/' || stat(arg.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    bool unseen = Under(arg, "/tmp");
    for (const std::string& h : hidden) unseen = unseen || (h != "/" && Under(arg, h));
    std::string dir = std::filesystem::path(arg).parent_path().string();
    if (unseen && dir != "/tmp" && std::find(dirs.begin(), dirs.end(), dir) == dirs.end())
      dirs.push_back(dir);
  }
  return dirs;
}

// Whether user nobody may search every directory above `path` (and read `path` itself when
// `read`): when Ferry runs as root the sandbox runs as nobody, and bwrap binds by path as that
// user. Mode bits only (no ACLs).
Status NobodyCanReach(const std::string& path, bool read) {
  std::filesystem::path p = std::filesystem::absolute(path).lexically_normal();
  for (std::filesystem::path dir = p; !dir.empty(); dir = dir.parent_path()) {
    bool self = dir == p;
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0) return Status::Ok();  // bwrap will say
    mode_t need = self ? (read ? S_IROTH : 0) : S_IXOTH;
    mode_t have = st.st_uid == kNobody   ? (st.st_mode & S_IRWXU) >> 6
                  : st.st_gid == kNobody ? (st.st_mode & S_IRWXG) >> 3
                                         : st.st_mode & S_IRWXO;
    if ((have & need) != need) {
      char mode[8];
      snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      return Status::Unavailable(
          "the sandbox runs as nobody because Ferry runs as root, and nobody cannot " +
          std::string(self ? "read " : "reach ") + p.string() + " (" + dir.string() + " has mode " +
          mode +
          "): make it searchable (chmod o+x) or readable, or run Ferry as "
          "its own user as the packaged unit does");
    }
    if (dir == dir.root_path()) break;
  }
  return Status::Ok();
}

// Opens `dir` for bwrap's --bind-fd: Ferry opens it, so the sandbox's user (nobody when Ferry
// is root) need not be able to reach it.
Result<int> OpenForBind(const std::string& dir) {
  int fd = Raise(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (fd < 0) return Status::IoError("open " + dir + ": " + strerror(errno));
  return fd;
}

// The plan for Isolation::kBubblewrap: bwrap running the command. Fds it needs are appended to
// `*fds` (the parent closes them once the child started): the seccomp program as fd 3, then the
// directories to bind.
Result<ChildPlan> PlanBubblewrap(const SpawnOptions& options, std::vector<int>* fds) {
  Result<std::string> bwrap = internal::FindExecutable("bwrap");
  if (!bwrap.ok()) return Status::NotFound("bwrap not found: apt install bubblewrap");
  std::string prlimit;
  if (options.limits.max_processes != 0) {
    Result<std::string> found = internal::FindExecutable("prlimit");
    if (!found.ok()) return Status::NotFound("prlimit not found: apt install util-linux");
    prlimit = *found;
  }
  std::vector<std::string> command = options.argv;
  Result<std::string> exe = internal::FindExecutable(command[0]);
  if (!exe.ok()) return exe.status();
  command[0] = *exe;
  bool root = geteuid() == 0;
  FERRY_RETURN_IF_ERROR(MakePrivateDir(options.private_dir, root));
  if (root) {
    FERRY_RETURN_IF_ERROR(NobodyCanReach(options.private_dir, false));
    for (const std::string& arg : command)
      if (arg.find('/') != std::string::npos && std::filesystem::is_regular_file(arg))
        FERRY_RETURN_IF_ERROR(NobodyCanReach(arg, true));
  }
  Result<int> program = internal::SeccompProgramFd();
  if (!program.ok()) return program.status();
  fds->push_back(Raise(*program));
  std::vector<internal::FdBind> binds;
  std::vector<std::string> dirs = DirectoriesToBindBack(command, options.hidden_paths);
  dirs.insert(dirs.begin(), options.private_dir);
  for (size_t i = 0; i < dirs.size() && fds->size() < internal::kMaxExtraFds; ++i) {
    Result<int> fd = OpenForBind(dirs[i]);
    if (!fd.ok()) return fd.status();
    binds.push_back({3 + static_cast<int>(fds->size()), i == 0 ? "/tmp" : dirs[i], i == 0});
    fds->push_back(*fd);
  }
  ChildPlan plan;
  plan.exe = *bwrap;
  plan.args = internal::BubblewrapArgs(*bwrap, prlimit, command, binds, options);
  plan.env = ChildEnvironment("/tmp");
  plan.limits = options.limits;
  plan.set_nproc = false;  // set by prlimit inside the user namespace (see subprocess.h)
  plan.drop_to_nobody = root;
  plan.extra_fds = *fds;
  return plan;
}

std::string IsolationText(const SpawnOptions& options) {
  std::string limits = AnyLimit(options.limits) ? " + rlimits" : "";
  if (options.isolation == Isolation::kNone) return "none" + limits;
  return "bubblewrap (no network, read-only fs, pid ns) + seccomp" + limits;
}

std::string Describe(int status, bool bubblewrap) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  int code = WEXITSTATUS(status);
  std::string text = "exit " + std::to_string(code);
  if (bubblewrap && code > 128 && code < 128 + 65)
    text += " (signal " + std::to_string(code - 128) + ")";
  return text;
}

void SleepMs(int ms) {
  timespec ts{0, ms * 1'000'000L};
  nanosleep(&ts, nullptr);
}

// Whether process group `pgid` has a member that has not exited yet. Exited members may stay
// zombies for a while: those reparented (the sandbox's PID 1 once bwrap died) wait for the
// host's init to reap them, which is not ours to hurry. A PID namespace is empty once its PID 1
// has exited (the kernel kills and reaps the rest first).
bool GroupHasLiveMembers(pid_t pgid) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return false;
  bool live = false;
  char path[300], buf[512];  // path: "/proc/" + a d_name (at most 255) + "/stat"
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    const char* after_name = strrchr(buf, ')');  // "pid (comm) S ppid pgrp ..."
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (after_name && sscanf(after_name + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 &&
        pgrp == pgid && state != 'Z' && state != 'X') {
      live = true;
      break;
    }
  }
  closedir(proc);
  return live;
}

// SIGKILLs process group `pgid` until none of it runs (about a second at most), reaping the
// members that are our children.
void KillGroup(pid_t pgid) {
  for (int i = 0; i < 500; ++i) {
    if (kill(-pgid, SIGKILL) != 0 && errno == ESRCH) return;
    while (waitpid(-pgid, nullptr, WNOHANG) > 0) {
    }
    if (!GroupHasLiveMembers(pgid)) return;
    SleepMs(2);
  }
}

}  // namespace

Result<ChildProcess> Spawn(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty())
    return Status::InvalidArgument("spawn: empty command");
  if (options.private_dir.empty()) return Status::InvalidArgument("spawn: no private directory");
  std::vector<int> fds;  // for the child only; closed here once it started
  Result<ChildPlan> plan =
      options.isolation == Isolation::kNone ? PlanNone(options) : PlanBubblewrap(options, &fds);
  if (!plan.ok()) {
    for (int fd : fds) close(fd);
    return plan.status().WithContext("starting " + options.argv[0]);
  }
  Result<Pipe> in = MakePipe(), out = MakePipe(), err = MakePipe();
  Result<pid_t> pid = Status::Internal("pipes");
  if (in.ok() && out.ok() && err.ok()) {
    plan->stdin_fd = in->read;
    plan->stdout_fd = out->write;
    plan->stderr_fd = err->write;
    pid = internal::ForkExec(*plan);
  }
  for (Result<Pipe>* p : {&in, &out, &err}) {
    if (!p->ok()) continue;
    close(p == &in ? (*p)->read : (*p)->write);  // the child's ends
    if (!pid.ok()) close(p == &in ? (*p)->write : (*p)->read);
  }
  for (int fd : fds) close(fd);
  for (Result<Pipe>* p : {&in, &out, &err})
    if (!p->ok()) return p->status();
  if (!pid.ok()) return pid.status();
  ChildProcess child;
  child.pid = *pid;
  child.stdin_fd = in->write;
  child.stdout_fd = out->read;
  child.stderr_fd = err->read;
  for (int fd : {child.stdin_fd, child.stdout_fd, child.stderr_fd})
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  child.isolation = IsolationText(options);
  return child;
}

void Kill(ChildProcess* child) {
  if (child->pid > 0) {
    pid_t pid = child->pid;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    KillGroup(pid);
    child->pid = -1;
  }
  CloseFd(&child->stdin_fd);
  CloseFd(&child->stdout_fd);
  CloseFd(&child->stderr_fd);
}

bool Reaped(ChildProcess* child, std::string* how_it_ended) {
  if (child->pid <= 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(child->pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  if (how_it_ended) {
    *how_it_ended = r > 0 ? Describe(status, child->isolation.rfind("bubblewrap", 0) == 0)
                          : std::string("gone (") + strerror(errno) + ")";
  }
  KillGroup(child->pid);
  child->pid = -1;
  return true;
}

}  // namespace ferry::platform

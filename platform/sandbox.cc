// The bubblewrap sandbox: its command line, its seccomp filter, and the check of a host.
#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "platform/subprocess.h"
#include "platform/subprocess_child.h"

namespace ferry::platform {
namespace internal {
namespace {

// System calls a transform has no business making, refused with EPERM. The list follows what
// Docker's and Flatpak's default profiles refuse; the filter allows everything else.
constexpr const char* kDenied[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "syslog",
    "acct",
    "quotactl",
    "lookup_dcookie",
    "name_to_handle_at",
    "open_by_handle_at",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "vhangup",
    "nfsservctl",
    "uselib",
    "personality",
};

struct Filter {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  ~Filter() { seccomp_release(ctx); }
};

Status Add(Filter& f, uint32_t action, int syscall_nr, unsigned count,
           const scmp_arg_cmp* arg = nullptr) {
  int rc = count ? seccomp_rule_add_array(f.ctx, action, syscall_nr, count, arg)
                 : seccomp_rule_add(f.ctx, action, syscall_nr, 0);
  if (rc != 0) return Status::Internal("seccomp_rule_add: " + std::string(strerror(-rc)));
  return Status::Ok();
}

Status BuildFilter(Filter& f) {
  if (f.ctx == nullptr) return Status::Internal("seccomp_init failed");
  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    FERRY_RETURN_IF_ERROR(Add(f, SCMP_ACT_ERRNO(EPERM), nr, 0));
  }
  // Sockets: only AF_UNIX (the network namespace already has no route out).
  scmp_arg_cmp not_unix = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
  FERRY_RETURN_IF_ERROR(Add(f, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, &not_unix));
  // No new namespaces from inside: clone with a CLONE_NEW* flag; clone3 (whose flags sit in
  // memory a filter cannot read) answers ENOSYS, so the C library falls back to clone.
  scmp_arg_cmp new_ns = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
  FERRY_RETURN_IF_ERROR(Add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, &new_ns));
  int clone3 = seccomp_syscall_resolve_name("clone3");
  if (clone3 != __NR_SCMP_ERROR) FERRY_RETURN_IF_ERROR(Add(f, SCMP_ACT_ERRNO(ENOSYS), clone3, 0));
  // Typing into the terminal of the parent (TIOCSTI).
  scmp_arg_cmp tiocsti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, 0x5412);
  return Add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, &tiocsti);
}

}  // namespace

Result<int> SeccompProgramFd() {
  Filter filter;
  FERRY_RETURN_IF_ERROR(BuildFilter(filter));
  int fd = memfd_create("ferry-seccomp", MFD_CLOEXEC);
  if (fd < 0) return Status::IoError(std::string("memfd_create: ") + strerror(errno));
  int rc = seccomp_export_bpf(filter.ctx, fd);
  if (rc != 0 || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return Status::Internal("seccomp_export_bpf: " + std::string(strerror(rc ? -rc : errno)));
  }
  return fd;
}

// No --new-session: the sandbox's PID 1 stays in the process group Spawn made, so Kill's
// SIGKILL to the group reaches it, and with it the whole PID namespace. What --new-session
// guards against (TIOCSTI into the parent's terminal) the seccomp filter refuses.
std::vector<std::string> BubblewrapArgs(const std::string& bwrap, const std::string& prlimit,
                                        const std::vector<std::string>& command,
                                        const std::vector<FdBind>& binds,
                                        const SpawnOptions& options) {
  // clang-format off
  std::vector<std::string> args = {
      bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
      "--die-with-parent", "--cap-drop", "ALL",
      "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--seccomp", "3"};
  // clang-format on
  // The private directory on /tmp, then the hidden paths (those under /tmp are not seen
  // anyway), then the directories bound back over them.
  auto bind = [&args](const FdBind& b) {
    args.insert(args.end(),
                {b.writable ? "--bind-fd" : "--ro-bind-fd", std::to_string(b.fd), b.dest});
  };
  if (!binds.empty()) bind(binds[0]);
  for (const std::string& path : options.hidden_paths) {
    struct stat st {};
    if (path.rfind("/tmp/", 0) == 0 || path == "/tmp" || stat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      args.insert(args.end(), {"--tmpfs", path});
    } else {
      args.insert(args.end(), {"--ro-bind", "/dev/null", path});
    }
  }
  for (size_t i = 1; i < binds.size(); ++i) bind(binds[i]);
  args.insert(args.end(), {"--chdir", "/tmp"});
  args.push_back("--");
  if (options.limits.max_processes != 0) {
    std::string n = std::to_string(options.limits.max_processes);
    args.insert(args.end(), {prlimit, "--nproc=" + n + ":" + n, "--"});
  }
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

}  // namespace internal
}  // namespace ferry::platform

// Spawn without isolation: pipes, exit codes, the process group, PDEATHSIG, rlimits.
#include "platform/subprocess.h"

#include <doctest/doctest.h>
#include <pthread.h>
#include <stdlib.h>

#include <thread>

#include "unit/platform/subprocess_test_support.h"

using ferry::platform::ChildProcess;
using ferry::platform::Code;
using ferry::platform::Isolation;
using ferry::platform::Kill;
using ferry::platform::Spawn;
using namespace ferry::testing;

namespace {

ChildProcess MustSpawn(const ferry::platform::SpawnOptions& options) {
  auto child = Spawn(options);
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  return *child;
}

}  // namespace

TEST_SUITE("subprocess" * doctest::skip(UnderQemu())) {
  TEST_CASE("spawn: lines written to stdin come back on stdout, stderr is separate") {
    TempDir dir;
    IgnoreSigpipe ignore;
    ChildProcess child = MustSpawn(
        Options(dir, {"sh", "-c", "echo started >&2; while read l; do echo \"got $l\"; done"},
                Isolation::kNone));
    CHECK(child.pid > 0);
    CHECK(child.isolation == "none");
    REQUIRE(WriteAll(child.stdin_fd, "one\ntwo\n"));
    CHECK(ReadLine(child.stdout_fd) == "got one");
    CHECK(ReadLine(child.stdout_fd) == "got two");
    CHECK(ReadLine(child.stderr_fd) == "started");
    close(child.stdin_fd);
    child.stdin_fd = -1;
    CHECK(WaitEnded(&child) == "exit 0");
    Kill(&child);
    CHECK(child.stdout_fd == -1);
  }

  TEST_CASE("spawn: exit codes and signals are told apart") {
    TempDir dir;
    ChildProcess a = MustSpawn(Options(dir, {"sh", "-c", "exit 3"}, Isolation::kNone));
    CHECK(WaitEnded(&a) == "exit 3");
    std::string how = "unchanged";
    CHECK(ferry::platform::Reaped(&a, &how));  // already reaped: true, text left alone
    CHECK(how == "unchanged");
    Kill(&a);
    ChildProcess b = MustSpawn(Options(dir, {"sh", "-c", "kill -9 $$"}, Isolation::kNone));
    CHECK(WaitEnded(&b) == "killed by signal 9");
    Kill(&b);
  }

  TEST_CASE("spawn: a program that is not there is an error, not a child") {
    TempDir dir;
    auto missing = Spawn(Options(dir, {"ferry-no-such-program"}, Isolation::kNone));
    CHECK(missing.status().code() == Code::kNotFound);
    auto not_exec = Spawn(Options(dir, {"/etc/hostname"}, Isolation::kNone));
    CHECK_FALSE(not_exec.ok());
    CHECK(Spawn(Options(dir, {}, Isolation::kNone)).status().code() == Code::kInvalidArgument);
    ChildProcess none;
    Kill(&none);  // a default child: nothing to do
  }

  TEST_CASE(
      "spawn: the child gets a clean environment, its private directory as cwd, default "
      "signals") {
    TempDir dir;
    setenv("FERRY_TEST_SECRET", "hunter2", 1);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);  // as the agent does
    ChildProcess child = MustSpawn(Options(
        dir, {"sh", "-c", "echo ${FERRY_TEST_SECRET-unset} $HOME; pwd; kill -TERM $$; sleep 5"},
        Isolation::kNone));
    pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
    unsetenv("FERRY_TEST_SECRET");
    CHECK(ReadLine(child.stdout_fd) == "unset " + dir.File("private"));
    CHECK(ReadLine(child.stdout_fd) == dir.File("private"));
    CHECK(WaitEnded(&child) == "killed by signal 15");
    Kill(&child);
  }

  TEST_CASE("spawn: Kill takes the child and every process it started") {
    TempDir dir;
    std::string script = WriteScript(dir, "tree.py", R"(
import os, time
for _ in range(3):
    if os.fork() == 0:
        os.fork()
        time.sleep(1000)
print("ready", flush=True)
time.sleep(1000)
)");
    ChildProcess child = MustSpawn(Options(dir, {kPython, script}, Isolation::kNone));
    REQUIRE(ReadLine(child.stdout_fd) == "ready");
    for (int i = 0; i < 200 && ProcessesWith(script) < 7; ++i) usleep(10'000);
    CHECK(ProcessesWith(script) == 7);
    Kill(&child);
    CHECK(child.pid == -1);
    CHECK(ProcessesWith(script) == 0);
  }

  TEST_CASE("spawn: when the child ends, what it left in its process group is killed") {
    TempDir dir;
    std::string script =
        WriteScript(dir, "orphans.sh", "sleep 987.654 &\nsleep 987.654 &\necho ready\n");
    ChildProcess child = MustSpawn(Options(dir, {"sh", script}, Isolation::kNone));
    REQUIRE(ReadLine(child.stdout_fd) == "ready");
    CHECK(WaitEnded(&child) == "exit 0");
    for (int i = 0; i < 100 && ProcessesWith("sleep 987.654") > 0; ++i) usleep(10'000);
    CHECK(ProcessesWith("sleep 987.654") == 0);
    Kill(&child);
  }

  TEST_CASE("spawn: the child dies when the thread that started it ends (PDEATHSIG)") {
    TempDir dir;
    ChildProcess child;
    std::thread starter([&] {
      child = MustSpawn(Options(dir, {"sleep", "1000"}, Isolation::kNone));
    });
    starter.join();
    CHECK(WaitEnded(&child, 5'000) == "killed by signal 9");
    Kill(&child);
  }

  TEST_CASE("spawn: writing to a child that closed its stdin fails with EPIPE, not SIGPIPE") {
    TempDir dir;
    IgnoreSigpipe ignore;
    ChildProcess child =
        MustSpawn(Options(dir, {"sh", "-c", "exec 0<&-; sleep 5"}, Isolation::kNone));
    usleep(200'000);
    errno = 0;
    CHECK(write(child.stdin_fd, "x\n", 2) == -1);
    CHECK(errno == EPIPE);
    Kill(&child);
  }

  TEST_CASE("rlimits: a memory bomb fails to allocate past the address-space limit") {
    TempDir dir;
    auto options = Options(dir, {kPython, "-c", "b = bytearray(1 << 30)"}, Isolation::kNone);
    options.limits.address_space_bytes = 256ull << 20;
    ChildProcess child = MustSpawn(options);
    CHECK(child.isolation == "none + rlimits");
    CHECK(ReadToEnd(child.stderr_fd).find("MemoryError") != std::string::npos);
    CHECK(WaitEnded(&child) == "exit 1");
    Kill(&child);
  }

  TEST_CASE("rlimits: a CPU loop is killed at the CPU-time limit") {
    TempDir dir;
    auto options = Options(dir, {kPython, "-c", "while True: pass"}, Isolation::kNone);
    options.limits.cpu_seconds = 1;
    ChildProcess child = MustSpawn(options);
    CHECK(WaitEnded(&child, 10'000) == "killed by signal 24");  // SIGXCPU
    Kill(&child);
  }

  TEST_CASE("rlimits: a file-size bomb is stopped at the file-size limit") {
    TempDir dir;
    auto options =
        Options(dir, {"sh", "-c", "exec dd if=/dev/zero of=big bs=1M count=8"}, Isolation::kNone);
    options.limits.max_file_bytes = 1 << 20;
    ChildProcess child = MustSpawn(options);
    CHECK(WaitEnded(&child) == "killed by signal 25");  // SIGXFSZ
    CHECK(std::filesystem::file_size(dir.File("private/big")) == 1u << 20);
    Kill(&child);
  }
}

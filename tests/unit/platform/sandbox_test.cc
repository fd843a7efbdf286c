// Spawn under bubblewrap: what the sandbox takes away, really tried by a child. Where the
// sandbox cannot be set up these tests fail, saying why, unless FERRY_NO_SANDBOX_TESTS=1 says
// to skip them (then doctest reports them skipped).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include "platform/subprocess.h"
#include "unit/platform/subprocess_test_support.h"

using ferry::platform::ChildProcess;
using ferry::platform::Isolation;
using ferry::platform::Kill;
using ferry::platform::Spawn;
using namespace ferry::testing;

namespace {

bool SkipSandboxTests() {
  const char* skip = getenv("FERRY_NO_SANDBOX_TESTS");
  return UnderQemu() || (skip != nullptr && std::string(skip) == "1");
}

// Runs a Python program in the sandbox and returns its stdout once it ended.
// Scripts live under /var/tmp: inside the sandbox /tmp is the private directory.
struct Sandboxed {
  TempDir dir{"/var/tmp"};
  ChildProcess child;
  std::string out, err, how;

  explicit Sandboxed(const std::string& program, ferry::platform::ProcessLimits limits = {},
                     std::vector<std::string> hidden = {}) {
    ferry::platform::Status usable = ferry::platform::CheckIsolation(Isolation::kBubblewrap);
    REQUIRE_MESSAGE(usable.ok(), usable.ToString(),
                    " (FERRY_NO_SANDBOX_TESTS=1 skips the sandbox tests on such a host)");
    std::string script = WriteScript(dir, "t.py", program);
    auto options = Options(dir, {kPython, script}, Isolation::kBubblewrap);
    options.limits = limits;
    options.hidden_paths = std::move(hidden);
    auto spawned = Spawn(options);
    REQUIRE_MESSAGE(spawned.ok(), spawned.status().ToString());
    child = *spawned;
  }
  void Finish() {
    out = ReadToEnd(child.stdout_fd);
    err = ReadToEnd(child.stderr_fd, 1000);
    how = WaitEnded(&child);
  }
  ~Sandboxed() { Kill(&child); }
};

}  // namespace

TEST_SUITE("sandbox" * doctest::skip(SkipSandboxTests())) {
  TEST_CASE("sandbox: this host can set it up, and /status says what it is") {
    Sandboxed s("print('hi')");
    CHECK(s.child.isolation == "bubblewrap (no network, read-only fs, pid ns) + seccomp");
    s.Finish();
    CHECK(s.out == "hi\n");
    CHECK(s.how == "exit 0");
  }

  TEST_CASE(
      "sandbox: no network: a connection to 127.0.0.1 fails, sockets other than AF_UNIX "
      "are refused") {
    Sandboxed s(R"(
import socket, errno
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    print("connected")
except OSError as e:
    print("refused", errno.errorcode.get(e.errno))
a, b = socket.socketpair()
print("unix ok")
)");
    s.Finish();
    CHECK(s.out == "refused EAFNOSUPPORT\nunix ok\n");
  }

  TEST_CASE("sandbox: the filesystem is read-only outside /tmp; /etc/shadow is unreadable") {
    Sandboxed s(R"(
import os
for path in ("/etc/ferry-sandbox-test", os.path.dirname(os.path.abspath(__file__)) + "/x"):
    try:
        open(path, "w").write("x")
        print("wrote", path)
    except OSError as e:
        print("denied")
try:
    open("/etc/shadow").read()
    print("read shadow")
except OSError as e:
    print("shadow denied")
)");
    s.Finish();
    CHECK(s.out == "denied\ndenied\nshadow denied\n");
    CHECK_FALSE(std::filesystem::exists(s.dir.File("x")));
  }

  TEST_CASE("sandbox: /tmp is the private directory, writable, and the host's /tmp is not seen") {
    Sandboxed s(R"(
import os
open("/tmp/made-inside", "w").write("x")
print(os.getcwd(), sorted(os.listdir("/tmp")), os.getuid())
)");
    s.Finish();
    CHECK(s.out == "/tmp ['made-inside'] 65534\n");
    CHECK(std::filesystem::exists(s.dir.File("private/made-inside")));
  }

  TEST_CASE("sandbox: hidden paths are empty inside: a directory, a file") {
    TempDir state("/var/tmp"), config("/var/tmp");
    chmod(state.path().c_str(), 0755);
    WriteScript(state, "queue.db", "records");
    WriteScript(config, "token", "s3cret");
    Sandboxed s("import os\nprint(os.listdir('" + state.path() + "'))\ntry:\n  open('" +
                    config.File("token") + "').read()\nexcept OSError as e:\n  print(e.strerror)",
                {}, {state.path(), config.File("token")});
    s.Finish();
    INFO(s.err);
    CHECK(s.out == "[]\nPermission denied\n");
  }

  TEST_CASE("sandbox: a script inside a hidden directory still runs; the rest stays hidden") {
    REQUIRE(ferry::platform::CheckIsolation(Isolation::kBubblewrap).ok());
    TempDir state("/var/tmp");
    chmod(state.path().c_str(), 0755);
    std::filesystem::create_directories(state.File("udf"));
    std::ofstream(state.File("queue.db")) << "records";
    std::ofstream(state.File("udf/t.py"))
        << "import os\nprint(sorted(os.listdir('" + state.path() + "')))\n";
    chmod(state.File("udf/t.py").c_str(), 0644);
    auto options = Options(state, {kPython, state.File("udf/t.py")}, Isolation::kBubblewrap);
    options.private_dir = state.File("transforms/t");
    options.hidden_paths = {state.path()};
    auto child = Spawn(options);
    REQUIRE_MESSAGE(child.ok(), child.status().ToString());
    std::string out = ReadToEnd(child->stdout_fd), err = ReadToEnd(child->stderr_fd, 1000);
    INFO(err);
    CHECK(out == "['udf']\n");
    CHECK(WaitEnded(&*child) == "exit 0");
    Kill(&*child);
  }

  TEST_CASE("sandbox: system calls for privileges are refused by seccomp") {
    Sandboxed s(R"(
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
for name, call in (("unshare", lambda: libc.unshare(0x10000000)),
                   ("ptrace", lambda: libc.ptrace(0, 0, 0, 0)),
                   ("keyctl", lambda: libc.syscall(250 if ctypes.sizeof(ctypes.c_void_p) == 8 else 311, 0, 0, 0, 0))):
    rc = call()
    print(name, rc, errno.errorcode.get(ctypes.get_errno()))
)");
    s.Finish();
    CHECK(s.out.find("unshare -1 EPERM") != std::string::npos);
    CHECK(s.out.find("ptrace -1 EPERM") != std::string::npos);
    INFO(s.out, s.err);
  }

  TEST_CASE("sandbox: the child has its own PID namespace and Kill takes every process") {
    Sandboxed s(R"(
import os, time
for _ in range(3):
    if os.fork() == 0:
        os.setsid()  # leaving the process group does not leave the namespace
        time.sleep(1000)
print(os.getpid(), flush=True)
time.sleep(1000)
)");
    CHECK(std::stoi(ReadLine(s.child.stdout_fd)) <= 3);
    std::string script = s.dir.File("t.py");
    // bwrap, the sandbox's PID 1 (bwrap too) and the four Pythons
    for (int i = 0; i < 200 && ProcessesWith(script) < 6; ++i) usleep(10'000);
    CHECK(ProcessesWith(script) == 6);
    Kill(&s.child);
    CHECK(ProcessesWith(script) == 0);
  }

  TEST_CASE("sandbox: a script and its private directory in a directory under /tmp run") {
    TempDir session;  // /tmp/ferry-test-XXXXXX: the integration tests' layout
    std::filesystem::create_directories(session.File("udf"));
    std::ofstream(session.File("udf/t.py")) << "import os\nprint(os.getcwd(), os.listdir('.'))\n";
    chmod(session.File("udf/t.py").c_str(), 0644);
    chmod(session.path().c_str(), 0700);
    REQUIRE(ferry::platform::CheckIsolation(Isolation::kBubblewrap).ok());
    auto options = Options(session, {kPython, session.File("udf/t.py")}, Isolation::kBubblewrap);
    options.private_dir = session.File("queue/transforms/t");
    if (geteuid() == 0) {  // the sandbox runs as nobody, who must be able to reach the files
      auto refused = Spawn(options);
      CHECK(refused.status().code() == ferry::platform::Code::kUnavailable);
      CHECK(refused.status().message().find("nobody cannot reach") != std::string::npos);
      chmod(session.path().c_str(), 0711);
    }
    auto child = Spawn(options);
    REQUIRE_MESSAGE(child.ok(), child.status().ToString());
    std::string out = ReadToEnd(child->stdout_fd), err = ReadToEnd(child->stderr_fd, 1000);
    INFO(err);
    CHECK(out.rfind("/tmp [", 0) == 0);
    CHECK(WaitEnded(&*child) == "exit 0");
    Kill(&*child);
  }

  TEST_CASE("sandbox: the example transforms answer in it (Python, Lua with lua-cjson)") {
    REQUIRE(ferry::platform::CheckIsolation(Isolation::kBubblewrap).ok());
    TempDir dir("/var/tmp");  // a copy: the source tree may be where nobody cannot reach
    std::string examples = std::string(FERRY_SOURCE_DIR) + "/config/examples/transforms/";
    for (auto [interpreter, script] :
         {std::pair{kPython, "dragino_lht52.py"}, std::pair{"lua5.4", "tasmota_dewpoint.lua"}}) {
      std::ifstream in(examples + script);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      REQUIRE(!text.empty());
      auto options =
          Options(dir, {interpreter, WriteScript(dir, script, text)}, Isolation::kBubblewrap);
      options.limits.address_space_bytes = 256ull << 20;
      options.limits.max_processes = 16;
      auto child = Spawn(options);
      REQUIRE_MESSAGE(child.ok(), child.status().ToString());
      IgnoreSigpipe ignore;
      REQUIRE(WriteAll(child->stdin_fd, R"({"id":7,"topic":"tele/wemos1/STATE","payload":"{}",)"
                                        R"("received_at":"2026-12-06T18:00:00.123Z","records":[]})"
                                        "\n"));
      std::string reply = ReadLine(child->stdout_fd);
      INFO(script, ": ", ReadToEnd(child->stderr_fd, 200));
      CHECK(reply.find("\"id\":") != std::string::npos);
      CHECK(reply.find("7") != std::string::npos);
      CHECK(reply.find("\"records\":") != std::string::npos);
      Kill(&*child);
    }
  }

  TEST_CASE("sandbox: a command's exit code comes through bwrap") {
    Sandboxed s("import sys\nsys.exit(3)");
    s.Finish();
    CHECK(s.how == "exit 3");
  }

  TEST_CASE("sandbox rlimits: a fork bomb is stopped at the process limit") {
    ferry::platform::ProcessLimits limits;
    limits.max_processes = 16;
    Sandboxed s(R"(
import os, time
n = 0
try:
    while n < 1000:
        if os.fork() == 0:
            time.sleep(1000)
        n += 1
except OSError as e:
    print("stopped after", n, flush=True)
)",
                limits);
    std::string line = ReadLine(s.child.stdout_fd);
    REQUIRE(line.rfind("stopped after ", 0) == 0);
    CHECK(std::stoi(line.substr(14)) < 16);
    CHECK(s.child.isolation == "bubblewrap (no network, read-only fs, pid ns) + seccomp + rlimits");
  }

  TEST_CASE("sandbox rlimits: memory and CPU bombs die at their limits") {
    ferry::platform::ProcessLimits memory;
    memory.address_space_bytes = 256ull << 20;
    Sandboxed m("b = bytearray(1 << 30)", memory);
    m.Finish();
    CHECK(m.err.find("MemoryError") != std::string::npos);
    CHECK(m.how == "exit 1");
    ferry::platform::ProcessLimits cpu;
    cpu.cpu_seconds = 1;
    Sandboxed c("while True: pass", cpu);
    c.Finish();
    CHECK(c.how == "exit 152 (signal 24)");
  }
}

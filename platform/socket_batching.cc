#include "platform/socket_batching.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

namespace ferry::platform {
namespace {

constexpr size_t kReadBufferBytes = 16 * 1024;

using ReadFn = ssize_t (*)(int, void*, size_t);
using WriteFn = ssize_t (*)(int, const void*, size_t);
using SocketpairFn = int (*)(int, int, int, int*);

// The batched fd, -1 when none; only its owner thread touches the buffers.
std::atomic<int> g_fd{-1};
std::atomic<std::thread::id> g_owner;
char g_in[kReadBufferBytes];
size_t g_in_begin = 0, g_in_end = 0;
std::string g_out;  // written by the library, not yet sent
bool g_corked = false;
thread_local bool t_no_socketpair = false;

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}
ReadFn RealRead() {
  static ReadFn fn = Real<ReadFn>("read");
  return fn;
}
WriteFn RealWrite() {
  static WriteFn fn = Real<WriteFn>("write");
  return fn;
}
SocketpairFn RealSocketpair() {
  static SocketpairFn fn = Real<SocketpairFn>("socketpair");
  return fn;
}

bool Mine(int fd) {
  return fd >= 0 && g_fd.load() == fd && g_owner.load() == std::this_thread::get_id();
}

void Reset() {
  g_fd = -1;
  g_in_begin = g_in_end = 0;
  g_out.clear();
  g_out.shrink_to_fit();
  g_corked = false;
}

ssize_t BufferedRead(int fd, void* buf, size_t n) {
  if (g_in_begin == g_in_end) {
    ssize_t got = recv(fd, g_in, kReadBufferBytes, MSG_DONTWAIT);
    if (got < 0 && errno == ENOTSOCK) {
      Reset();  // not a socket (any more): behave as read() does
      return RealRead()(fd, buf, n);
    }
    if (got <= 0) return got;
    g_in_begin = 0;
    g_in_end = static_cast<size_t>(got);
  }
  size_t take = std::min(n, g_in_end - g_in_begin);
  memcpy(buf, g_in + g_in_begin, take);
  g_in_begin += take;
  return static_cast<ssize_t>(take);
}

}  // namespace

void BufferSocket(int fd) {
  Reset();
  g_owner = std::this_thread::get_id();
  g_fd = fd;
}

void UnbufferSocket(int fd) {
  if (Mine(fd)) Reset();
}

size_t BufferedBytes(int fd) { return Mine(fd) ? g_in_end - g_in_begin : 0; }

void CorkWrites(int fd) {
  if (Mine(fd)) g_corked = true;
}

Status UncorkWrites(int fd) {
  if (!Mine(fd)) return Status::Ok();
  g_corked = false;
  size_t sent = 0;
  while (sent < g_out.size()) {
    ssize_t n = send(fd, g_out.data() + sent, g_out.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;  // the rest waits for the socket to take more
    } else {
      std::string why = n < 0 ? strerror(errno) : "nothing sent";
      g_out.clear();
      return Status::IoError("send: " + why);
    }
  }
  g_out.erase(0, sent);
  return Status::Ok();
}

size_t PendingWriteBytes(int fd) { return Mine(fd) ? g_out.size() : 0; }

void WithoutWakeupPipe(const std::function<void()>& fn) {
  t_no_socketpair = true;
  fn();
  t_no_socketpair = false;
}

}  // namespace ferry::platform

// The interposed C library functions: the program's own definitions come first in the dynamic
// linker's search order, so libmosquitto's calls land here.
extern "C" ssize_t read(int fd, void* buf, size_t n) {
  using namespace ferry::platform;
  if (Mine(fd)) return BufferedRead(fd, buf, n);
  return RealRead()(fd, buf, n);
}

extern "C" ssize_t write(int fd, const void* buf, size_t n) {
  using namespace ferry::platform;
  if (Mine(fd) && (g_corked || !g_out.empty())) {
    g_out.append(static_cast<const char*>(buf), n);
    return static_cast<ssize_t>(n);
  }
  return RealWrite()(fd, buf, n);
}

extern "C" int socketpair(int domain, int type, int protocol, int sv[2]) {
  using namespace ferry::platform;
  if (t_no_socketpair) {
    errno = EMFILE;
    return -1;
  }
  return RealSocketpair()(domain, type, protocol, sv);
}

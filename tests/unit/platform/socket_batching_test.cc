#include "platform/socket_batching.h"

#include <doctest/doctest.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

using namespace ferry;

namespace {

struct Pair {
  Pair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd) == 0); }
  ~Pair() {
    platform::UnbufferSocket(fd[0]);
    close(fd[0]);
    close(fd[1]);
  }
  int fd[2];
};

std::string ReadAll(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

TEST_CASE("reads of a batched socket are served from one receive, byte by byte") {
  Pair p;
  REQUIRE(::write(p.fd[1], "hello world", 11) == 11);
  platform::BufferSocket(p.fd[0]);
  char c = 0;
  REQUIRE(::read(p.fd[0], &c, 1) == 1);
  CHECK(c == 'h');
  CHECK(platform::BufferedBytes(p.fd[0]) == 10);  // the rest came with the first read
  char rest[32] = {};
  CHECK(::read(p.fd[0], rest, sizeof rest) == 10);
  CHECK(std::string(rest) == "ello world");
  // Empty: read() keeps its contract on a non-blocking socket.
  errno = 0;
  CHECK(::read(p.fd[0], rest, sizeof rest) == -1);
  CHECK(errno == EAGAIN);
  close(p.fd[1]);
  p.fd[1] = -1;
  CHECK(::read(p.fd[0], rest, sizeof rest) == 0);  // end of stream
}

TEST_CASE("another thread reading the batched fd goes straight to the socket") {
  Pair p;
  platform::BufferSocket(p.fd[0]);
  REQUIRE(::write(p.fd[1], "abc", 3) == 3);
  size_t seen = 0;
  std::thread([&] { seen = platform::BufferedBytes(p.fd[0]); }).join();
  CHECK(seen == 0);
  std::string got;
  std::thread([&] { got = ReadAll(p.fd[0]); }).join();
  CHECK(got == "abc");
}

TEST_CASE("corked writes go out in one send, in order, after what was pending") {
  Pair p;
  platform::BufferSocket(p.fd[0]);
  platform::CorkWrites(p.fd[0]);
  for (int i = 0; i < 3; ++i) REQUIRE(::write(p.fd[0], "ack;", 4) == 4);
  CHECK(platform::PendingWriteBytes(p.fd[0]) == 12);
  CHECK(ReadAll(p.fd[1]).empty());  // nothing on the wire while corked
  REQUIRE(platform::UncorkWrites(p.fd[0]).ok());
  CHECK(platform::PendingWriteBytes(p.fd[0]) == 0);
  CHECK(ReadAll(p.fd[1]) == "ack;ack;ack;");
  // Uncorked, a write goes straight through.
  REQUIRE(::write(p.fd[0], "bye", 3) == 3);
  CHECK(ReadAll(p.fd[1]) == "bye");
}

TEST_CASE("what the socket cannot take stays pending and keeps its place") {
  Pair p;
  int small = 4096;
  REQUIRE(setsockopt(p.fd[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  platform::BufferSocket(p.fd[0]);
  std::string big(1 << 20, 'x');
  platform::CorkWrites(p.fd[0]);
  REQUIRE(::write(p.fd[0], big.data(), big.size()) == static_cast<ssize_t>(big.size()));
  REQUIRE(platform::UncorkWrites(p.fd[0]).ok());
  size_t pending = platform::PendingWriteBytes(p.fd[0]);
  CHECK(pending > 0);
  REQUIRE(::write(p.fd[0], "END", 3) == 3);  // queued behind the pending bytes
  std::string got;
  for (int i = 0; i < 10'000 && got.size() < big.size() + 3; ++i) {
    got += ReadAll(p.fd[1]);
    REQUIRE(platform::UncorkWrites(p.fd[0]).ok());
  }
  CHECK(got.size() == big.size() + 3);
  CHECK(got.substr(got.size() - 4) == "xEND");
}

TEST_CASE("socketpair fails inside WithoutWakeupPipe, and only there") {
  int sv[2];
  int rc = 0, err = 0;
  platform::WithoutWakeupPipe([&] {
    rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    err = errno;
  });
  CHECK(rc == -1);
  CHECK(err == EMFILE);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  close(sv[0]);
  close(sv[1]);
}

// Fewer system calls under a client library that reads and writes its socket in tiny pieces.
//
// libmosquitto 2.0 reads every MQTT packet with at least three read(2) calls (the command byte,
// the remaining length a byte at a time, then the rest), writes every packet it sends with its
// own write(2) (a 4-byte PUBACK per QoS 1 message), and writes a byte to an internal socket pair
// for every packet it queues: about five system calls per message, a large part of intake's
// CPU on a gateway core. It has no hook for its own I/O, so this file interposes read(2),
// write(2) and socketpair(2) for one registered socket and thread; every other fd, and every
// other thread, goes straight to the C library.
//
// Reads: while BufferSocket(fd) is in force, read() on fd from the registering thread is served
// from a 16 KiB buffer refilled with one recv(2): about twenty messages per system call. A
// refill keeps read()'s contract on a non-blocking socket (0 at end of stream, -1 with errno
// EAGAIN when nothing is there). Bytes can wait in the buffer, so poll(2) no longer tells the
// whole story: a caller that waits on the socket asks BufferedBytes() first.
//
// Writes: between CorkWrites(fd) and UncorkWrites(fd), write() on fd appends to a buffer and
// reports success; UncorkWrites sends it with one send(2). What the socket does not take stays
// buffered (PendingWriteBytes) and goes first on the next UncorkWrites; writes while bytes are
// pending are buffered too, so the order on the wire is kept. Never cork around a write that
// makes the library close the socket (MQTT DISCONNECT): the buffer would be lost with it.
//
// UnbufferSocket(fd) must be called before the socket is closed: what is buffered either way is
// dropped. The shim also lets go by itself when the fd turns out not to be a socket.
//
// WithoutWakeupPipe: libmosquitto writes a byte to its socket pair to wake a select() loop that
// a client driving the network itself does not have. While `fn` runs, socketpair(2) fails on the
// calling thread (EMFILE), and libmosquitto goes without the pair (it logs that outgoing
// publishes may be delayed; Ferry publishes nothing).
#pragma once

#include <cstddef>
#include <functional>

#include "platform/status.h"

namespace ferry::platform {

// Batches reads (and, when corked, writes) on `fd` for the calling thread. One fd at a time; a
// second call replaces the first, dropping what it had buffered.
void BufferSocket(int fd);
// Stops batching `fd` (if it is the batched one) and drops what is buffered.
void UnbufferSocket(int fd);
// Bytes received on `fd` and not yet handed out by read().
size_t BufferedBytes(int fd);

void CorkWrites(int fd);
// Sends what was written since CorkWrites (after anything still pending). kIoError when the
// socket failed; bytes the socket could not take now stay pending.
Status UncorkWrites(int fd);
// Bytes written by the library that the socket has not taken yet.
size_t PendingWriteBytes(int fd);

// Runs `fn` with socketpair(2) failing on this thread.
void WithoutWakeupPipe(const std::function<void()>& fn);

}  // namespace ferry::platform

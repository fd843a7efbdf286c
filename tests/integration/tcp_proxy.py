"""A TCP proxy on loopback that can hold back what the client sends.

It stands in for a fault the real programs cannot produce on demand: bytes that ferry wrote
(PUBACKs) never reaching the broker before ferry dies. While `hold` is set, client-to-server
bytes are kept in the proxy; `drop_and_close()` throws them away and closes every connection,
as a crash with them still unread would. Server-to-client bytes always pass. `pubacks` counts
the MQTT PUBACK packets passed on to the server (counted as they are handed on).

With `refuse_mqtt5`, it also stands in for a broker that speaks only MQTT 3.1.1: a CONNECT of
protocol level 5 is answered as such a broker does (CONNACK 0x01, unacceptable protocol
version) and closed; `levels` lists the protocol level of every CONNECT seen.

`receive_maximums` lists the Receive Maximum of every CONNECT passed on (None: MQTT 3.1.1, or
MQTT 5 without one, which means 65,535). `qos1_publishes` counts the QoS 1 PUBLISH packets passed on to the client, and
`max_outstanding` the most QoS 1 messages passed on and not yet acknowledged (PUBACKs passed
on) at any moment: what the broker had in flight for the client, as far as the wire shows.
"""

import socket
import threading
import time


class TcpProxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1", refuse_mqtt5: bool = False):
        self.upstream = (host, upstream_port)
        self.refuse_mqtt5 = refuse_mqtt5
        self.levels: list[int] = []
        self.hold = False
        self.held_bytes = 0
        self.pubacks = 0
        self.receive_maximums: list[int | None] = []
        self.qos1_publishes = 0
        self.max_outstanding = 0
        self._lock = threading.Lock()
        self._conns: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(8)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refuse_mqtt5 and self._refused(client):
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.append((client, server))
            threading.Thread(target=self._pump, args=(client, server, MqttCounter(self)),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, MqttCounter(self, True)),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counter: "MqttCounter | None") -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            if counter and not counter.from_server and self.hold:
                with self._lock:
                    self.held_bytes += len(data)
                continue
            # Counted before they are passed on, so that neither side can answer them first:
            # `max_outstanding` never counts a message the broker already knew acknowledged.
            if counter:
                counter.feed(data)
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _refused(self, client: socket.socket) -> bool:
        """Reads the CONNECT's protocol level (without consuming it); refuses level 5."""
        client.settimeout(5)
        head = b""
        try:
            # Fixed header, remaining length (1-4 bytes), "\0\4MQTT", level.
            for _ in range(500):
                head = client.recv(12, socket.MSG_PEEK)
                if not head or len(head) >= 12:
                    break
                time.sleep(0.01)
        except OSError:
            pass
        client.settimeout(None)
        i = 1
        while i < len(head) and head[i] & 0x80:
            i += 1
        level = head[i + 7] if len(head) > i + 7 else -1
        self.levels.append(level)
        if level != 5:
            return False
        try:
            client.sendall(b"\x20\x02\x00\x01")
        except OSError:
            pass
        client.close()
        return True

    def drop_and_close(self) -> int:
        """Closes every connection without sending what was held; returns the bytes dropped."""
        with self._lock:
            conns, self._conns = self._conns, []
            dropped, self.held_bytes = self.held_bytes, 0
        for pair in conns:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        return dropped

    def stop(self) -> None:
        self._listener.close()
        self.drop_and_close()


class MqttCounter:
    """Follows the MQTT packets of one stream: a client-to-server one's PUBACKs, a
    server-to-client one's QoS 1 PUBLISHes."""

    def __init__(self, proxy: TcpProxy, from_server: bool = False):
        self.proxy = proxy
        self.from_server = from_server
        self.buf = b""

    def feed(self, data: bytes) -> None:
        buf = self.buf + data
        pos = 0  # the packets before it are counted (one slice per feed, not one per packet)
        while True:
            length, shift, i = 0, 0, pos + 1
            while i < len(buf):  # the remaining length: up to 4 bytes, 7 bits each
                length |= (buf[i] & 0x7F) << shift
                shift += 7
                i += 1
                if not buf[i - 1] & 0x80:
                    break
            else:
                break
            if len(buf) < i + length:
                break
            self._count(buf[pos], buf[i:i + length])
            pos = i + length
        self.buf = buf[pos:]

    def _count(self, first_byte: int, body: bytes) -> None:
        kind, qos = first_byte >> 4, (first_byte >> 1) & 3
        p = self.proxy
        with p._lock:
            if not self.from_server and kind == 1:  # CONNECT
                p.receive_maximums.append(connect_receive_maximum(body))
            elif not self.from_server and kind == 4:  # PUBACK
                p.pubacks += 1
            elif self.from_server and kind == 3 and qos == 1:  # PUBLISH, QoS 1
                p.qos1_publishes += 1
                p.max_outstanding = max(p.max_outstanding, p.qos1_publishes - p.pubacks)


def _varint(data: bytes, i: int) -> tuple[int, int]:
    """An MQTT variable byte integer at data[i]: (value, index after it)."""
    value, shift = 0, 0
    while True:
        value |= (data[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not data[i - 1] & 0x80:
            return value, i


def connect_receive_maximum(body: bytes) -> int | None:
    """The Receive Maximum property (0x21) of a CONNECT's variable header, if any."""
    name_len = int.from_bytes(body[0:2], "big")
    i = 2 + name_len
    if body[i] != 5:  # protocol level: properties exist in MQTT 5 only
        return None
    props_len, i = _varint(body, i + 4)  # level, flags, keep-alive
    end = i + props_len
    sizes = {0x11: 4, 0x21: 2, 0x27: 4, 0x22: 2, 0x19: 1, 0x17: 1}
    while i < end:
        prop = body[i]
        i += 1
        if prop == 0x21:
            return int.from_bytes(body[i:i + 2], "big")
        if prop in sizes:
            i += sizes[prop]
        elif prop == 0x26:  # user property: two strings
            for _ in range(2):
                i += 2 + int.from_bytes(body[i:i + 2], "big")
        elif prop in (0x15, 0x16):  # authentication method (string), data (binary)
            i += 2 + int.from_bytes(body[i:i + 2], "big")
        else:
            return None
    return None

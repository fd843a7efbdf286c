"""A TCP proxy on loopback that can hold back what the client sends.

It stands in for a fault the real programs cannot produce on demand: bytes that ferry wrote
(PUBACKs) never reaching the broker before ferry dies. While `hold` is set, client-to-server
bytes are kept in the proxy; `drop_and_close()` throws them away and closes every connection,
as a crash with them still unread would. Server-to-client bytes always pass. `pubacks` counts
the MQTT PUBACK packets passed on to the server.

With `refuse_mqtt5`, it also stands in for a broker that speaks only MQTT 3.1.1: a CONNECT of
protocol level 5 is answered as such a broker does (CONNACK 0x01, unacceptable protocol
version) and closed; `levels` lists the protocol level of every CONNECT seen.
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
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counter: "MqttCounter | None") -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            if counter and self.hold:
                with self._lock:
                    self.held_bytes += len(data)
                continue
            try:
                dst.sendall(data)
            except OSError:
                break
            if counter:
                counter.feed(data)
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
    """Follows the MQTT packets of one client-to-server stream and counts its PUBACKs."""

    def __init__(self, proxy: TcpProxy):
        self.proxy = proxy
        self.buf = b""

    def feed(self, data: bytes) -> None:
        self.buf += data
        while True:
            length, shift, i = 0, 0, 1
            while i < len(self.buf):  # the remaining length: up to 4 bytes, 7 bits each
                length |= (self.buf[i] & 0x7F) << shift
                shift += 7
                i += 1
                if not self.buf[i - 1] & 0x80:
                    break
            else:
                return
            if len(self.buf) < i + length:
                return
            if self.buf[0] >> 4 == 4:  # PUBACK
                with self.proxy._lock:
                    self.proxy.pubacks += 1
            self.buf = self.buf[i + length:]

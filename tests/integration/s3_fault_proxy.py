"""An HTTP proxy in front of an S3 store that injects the faults a real store does not produce on
demand: `slowdown` requests answered 503 SlowDown (as S3 does under load) without reaching the
store, and `lose` PUTs forwarded to the store, which writes the object, whose answer is then
thrown away and the connection closed (a response lost on the way back). Everything else is
passed through unchanged, the Host header included, so SigV4 signatures still verify."""

from __future__ import annotations

import http.client
import http.server
import threading

SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
            b'<Message>Please reduce your request rate.</Message></Error>')


class S3FaultProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.slowdown = 0    # the next N requests are answered 503 SlowDown
        self.lose = 0        # the next N PUTs are stored but their answers are lost
        self.slowed = 0      # counters of what was done
        self.lost = 0
        self.puts = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _take(self, what: str) -> bool:
                with proxy.lock:
                    if getattr(proxy, what) > 0:
                        setattr(proxy, what, getattr(proxy, what) - 1)
                        return True
                return False

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command == "PUT":
                    with proxy.lock:
                        proxy.puts += 1
                if self._take("slowdown"):
                    with proxy.lock:
                        proxy.slowed += 1
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOWDOWN)))
                    self.end_headers()
                    self.wfile.write(SLOWDOWN)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    conn.putrequest(self.command, self.path, skip_host=True,
                                    skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        conn.putheader(name, value)
                    conn.endheaders(body)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    self.close_connection = True  # the store is down: so is the answer
                    return
                finally:
                    conn.close()
                if self.command == "PUT" and resp.status == 200 and self._take("lose"):
                    with proxy.lock:
                        proxy.lost += 1
                    self.close_connection = True
                    return  # the object is stored; the client never hears of it
                self.send_response(resp.status)
                for name, value in resp.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""A scripted landing zone for Ferry's integration tests (standard library only).

It speaks landing protocol v1 (shared/spec/landing-protocol.md) far enough to stand in for the
faults the real `ferry-landing` cannot produce on demand: 503/429 with Retry-After, 500, dropped
connections, 413 for large batches, 400 for one poisoned record, 401, slow answers. It checks the
request headers, decompresses zstd bodies with the `zstd -dc` command, parses the NDJSON lines,
and keeps accepted batches in memory by Idempotency-Key (a repeated key is answered 200
{"duplicate":true} and not stored twice).

    landing = ScriptedLanding()                     # 127.0.0.1, a free port, serving at once
    landing.rules = [too_large(50), reject_poison()]  # looked at first, for every POST
    landing.script(Response(503, {"Retry-After": "2"}), "drop", 500)   # then the next POSTs
    landing.default = Response(200)                 # and when the script is used up
    ferry = session.ferry(broker, landing)          # duck-types harness.Landing (.batches_url)
    ...
    landing.posts()          # every POST seen: key, records, what was answered and when
    landing.batches          # accepted batches: key -> records
    landing.records()        # accepted records in (epoch, first_seq) order
    landing.stop()

With `forward_to` set to a real landing's batch URL, a 2xx answer of the script is replaced by
whatever that landing answers to the same request: a slow proxy in front of `ferry-landing`
(Response(200, delay=..., after=...) holds the request before and after forwarding).

Run alone: python3 scripted_landing.py --listen 127.0.0.1:8080 [--status 503] [--delay 2]
"""

from __future__ import annotations

import email.utils
import http.server
import json
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

ZSTD_BIN = shutil.which("zstd") or "/usr/bin/zstd"
BATCH_PATH = "/v1/batches"
KEY_RE = re.compile(r"^([A-Za-z0-9_-]{1,64})\.([a-z0-9]{1,32})\.(\d+)-(\d+)$")
GATEWAY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class Response:
    """What to answer to one POST.

    status   HTTP status; a 2xx stores the batch (or is replaced by the forward target's answer)
    headers  extra response headers, e.g. {"Retry-After": "2"}
    body     response body; default: a small JSON object naming the outcome
    delay    seconds to wait before storing (a slow landing zone); a client that hung up
             meanwhile gets nothing stored
    after    seconds to wait after storing, before answering (a slow acknowledgement)
    drop     close the connection without any answer (after `delay`); nothing is stored
    """
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: Optional[str] = None
    delay: float = 0.0
    after: float = 0.0
    drop: bool = False

    @staticmethod
    def of(item: Any) -> "Response":
        if isinstance(item, Response):
            return item
        if item == "drop":
            return Response(drop=True)
        if isinstance(item, int):
            return Response(item)
        if isinstance(item, dict):
            return Response(**item)
        raise ValueError(f"not a response: {item!r}")

    def describe(self) -> str:
        parts = ["drop" if self.drop else str(self.status)]
        parts += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.delay:
            parts.append(f"delay {self.delay:g}s")
        if self.after:
            parts.append(f"after {self.after:g}s")
        return ", ".join(parts)


@dataclass
class Post:
    """One POST as the landing saw it."""
    index: int
    key: str
    headers: dict
    records: list
    body_bytes: int
    received: float                      # time.monotonic() when the request was read
    received_wall: float                 # time.time() of the same
    phase: str = "received"              # received, delaying, stored, answering, done
    planned: str = ""                    # Response.describe() of the chosen answer
    status: Optional[int] = None         # what was answered; None: dropped or not answered
    outcome: str = ""                    # stored, duplicate, refused, dropped, client gone, ...
    answered: Optional[float] = None     # time.monotonic() when the answer was written
    violations: list = field(default_factory=list)

    @property
    def first_seq(self) -> int:
        m = KEY_RE.match(self.key)
        return int(m.group(3)) if m else -1

    @property
    def last_seq(self) -> int:
        m = KEY_RE.match(self.key)
        return int(m.group(4)) if m else -1


Rule = Callable[[Post], Optional[Response]]


def reject_poison(status: int = 400, field_name: str = "poison") -> Rule:
    """Refuses any batch holding a record whose data has `field_name` == true."""
    def rule(post: Post) -> Optional[Response]:
        bad = [r.get("id") for r in post.records
               if isinstance(r.get("data"), dict) and r["data"].get(field_name) is True]
        if not bad:
            return None
        body = json.dumps({"error": f"refused record {bad[0]}: {field_name}=true is not accepted"})
        return Response(status, body=body)
    return rule


def too_large(max_records: int, status: int = 413) -> Rule:
    """Refuses batches with more than `max_records` records."""
    def rule(post: Post) -> Optional[Response]:
        if len(post.records) <= max_records:
            return None
        return Response(status, body=json.dumps(
            {"error": f"{len(post.records)} records, at most {max_records} accepted"}))
    return rule


def http_date(epoch_seconds: float) -> str:
    """An IMF-fixdate such as 'Fri, 21 Nov 2026 10:15:00 GMT' (for Retry-After)."""
    return email.utils.formatdate(epoch_seconds, usegmt=True)


def decompress(body: bytes) -> bytes:
    run = subprocess.run([ZSTD_BIN, "-dc"], input=body, capture_output=True, timeout=30)
    if run.returncode != 0:
        raise ValueError(f"zstd -dc failed: {run.stderr.decode(errors='replace').strip()}")
    return run.stdout


def parse_body(post: Post, raw: bytes) -> None:
    """Fills post.records from the decompressed body, noting protocol violations."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        post.violations.append(f"body is not UTF-8: {e}")
        return
    if not text.endswith("\n"):
        post.violations.append("the last line does not end in a newline")
        text += "\n"
    for n, line in enumerate(text[:-1].split("\n"), 1):
        if not line.strip():
            post.violations.append(f"line {n} is blank")
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            post.violations.append(f"line {n} is not JSON: {e}")
            continue
        if not isinstance(record, dict) or "id" not in record:
            post.violations.append(f"line {n} is not an object with an id")
            continue
        post.records.append(record)


def client_gone(handler: http.server.BaseHTTPRequestHandler) -> bool:
    """True when the client closed its connection (a slow landing then does not store)."""
    try:
        readable, _, _ = select.select([handler.connection], [], [], 0)
        return bool(readable) and handler.connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class ScriptedLanding:
    def __init__(self, port: int = 0, host: str = "127.0.0.1", forward_to: str | None = None,
                 log_path: str | None = None, start: bool = True):
        self.host = host
        self.port = port
        self.forward_to = forward_to
        self.rules: list[Rule] = []
        self.default = Response(200)
        self.head_status = 200  # answer to HEAD (ferry's breaker probes)
        self.batches: dict[str, list] = {}  # accepted, by key
        self.duplicates = 0  # accepted keys seen again
        self.violations: list[str] = []
        self.probes: list[tuple[float, int]] = []
        self._script: list[Response] = []
        self._posts: list[Post] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log = open(log_path, "a", buffering=1) if log_path else None
        if start:
            self.start()

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        landing = self

        class Handler(_Handler):
            owner = landing

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        server = http.server.ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True, name=f"scripted-landing-{self.port}")
        self._thread.start()
        self.log(f"listening on {self.url}")

    def stop(self) -> None:
        """Stops listening; requests held by a delay end at once without an answer."""
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def alive(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def batches_url(self) -> str:
        return self.url + BATCH_PATH

    def log(self, text: str) -> None:
        if self._log:
            self._log.write(f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} "
                            f"{text}\n")

    # ---- what to answer --------------------------------------------------------------------

    def script(self, *items: Any, replace: bool = True) -> None:
        """The answers to the next POSTs, in order (Response, int status, "drop" or a dict of
        Response fields); rules still come first. replace=False appends."""
        with self._lock:
            if replace:
                self._script = []
            self._script += [Response.of(i) for i in items]

    def script_left(self) -> int:
        with self._lock:
            return len(self._script)

    def _choose(self, post: Post) -> Response:
        for rule in list(self.rules):
            r = rule(post)
            if r is not None:
                return r
        with self._lock:
            if self._script:
                return self._script.pop(0)
        return self.default

    # ---- what was seen ---------------------------------------------------------------------

    def posts(self, key: str | None = None) -> list[Post]:
        with self._lock:
            return [p for p in self._posts if key is None or p.key == key]

    def in_flight(self) -> list[Post]:
        with self._lock:
            return [p for p in self._posts if p.phase not in ("done",)]

    def records(self) -> list[dict]:
        """Accepted records, batches in (epoch, first_seq) order."""
        def order(key: str):
            m = KEY_RE.match(key)
            return (m.group(1), m.group(2), int(m.group(3))) if m else (key, "", 0)
        with self._lock:
            keys = sorted(self.batches, key=order)
            return [r for k in keys for r in self.batches[k]]

    def count(self) -> int:
        with self._lock:
            return sum(len(v) for v in self.batches.values())

    def wait_records(self, n: int, timeout: float = 30, settle: float = 1.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while self.count() < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {n} records at "
                                     f"the scripted landing (have {self.count()})")
            time.sleep(0.1)
        time.sleep(settle)
        return self.records()

    # ---- handling (called by the handler thread) -------------------------------------------

    def _wait(self, seconds: float) -> bool:
        """Sleeps; False when the landing is stopping."""
        return not self._stopping.wait(seconds) if seconds > 0 else not self._stopping.is_set()

    def _store(self, post: Post) -> tuple[int, str]:
        with self._lock:
            have = self.batches.get(post.key)
            if have is not None:
                self.duplicates += 1
                if have != post.records:
                    msg = f"key {post.key} sent again with different records"
                    post.violations.append(msg)
                    self.violations.append(msg)
                post.outcome = "duplicate"
                return 200, json.dumps({"duplicate": True})
            self.batches[post.key] = post.records
            post.outcome = "stored"
            return 200, json.dumps({"stored": len(post.records)})

    def _forward(self, post: Post, body: bytes) -> tuple[int, str]:
        headers = {k: v for k, v in post.headers.items()
                   if k.lower() in ("content-type", "content-encoding", "idempotency-key",
                                    "ferry-gateway", "ferry-records", "ferry-schema",
                                    "authorization")}
        req = urllib.request.Request(self.forward_to, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, text = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode("utf-8", "replace")
        except OSError as e:
            return 502, json.dumps({"error": f"forwarding failed: {e}"})
        if 200 <= status < 300:
            post.outcome = "duplicate" if '"duplicate"' in text else "stored"
            with self._lock:
                self.batches.setdefault(post.key, post.records)
        else:
            post.outcome = "refused by forward target"
        return status, text

    def handle_post(self, handler: "_Handler", body: bytes) -> None:
        h = {k: v for k, v in handler.headers.items()}
        lower = {k.lower(): v for k, v in h.items()}
        with self._lock:
            post = Post(len(self._posts), lower.get("idempotency-key", ""), h, [], len(body),
                        time.monotonic(), time.time())
            self._posts.append(post)
        # The protocol's headers and body.
        if not KEY_RE.match(post.key):
            post.violations.append(f"bad Idempotency-Key {post.key!r}")
        elif KEY_RE.match(post.key).group(1) != lower.get("ferry-gateway"):
            post.violations.append("Ferry-Gateway does not match the key")
        if not GATEWAY_RE.match(lower.get("ferry-gateway", "")):
            post.violations.append(f"bad Ferry-Gateway {lower.get('ferry-gateway')!r}")
        if lower.get("ferry-schema") != "1":
            post.violations.append(f"Ferry-Schema is {lower.get('ferry-schema')!r}")
        if not lower.get("content-type", "").startswith("application/x-ndjson"):
            post.violations.append(f"Content-Type is {lower.get('content-type')!r}")
        raw = body
        encoding = lower.get("content-encoding", "")
        if encoding == "zstd":
            try:
                raw = decompress(body)
            except (ValueError, subprocess.TimeoutExpired) as e:
                post.violations.append(str(e))
                raw = b""
        elif encoding:
            post.violations.append(f"unknown Content-Encoding {encoding!r}")
        if raw:
            parse_body(post, raw)
        else:
            post.violations.append("empty body")
        if str(len(post.records)) != lower.get("ferry-records"):
            post.violations.append(f"Ferry-Records {lower.get('ferry-records')!r} but "
                                   f"{len(post.records)} records")
        if post.records and KEY_RE.match(post.key):
            seqs = [r.get("seq") for r in post.records]
            if not all(isinstance(s, int) for s in seqs) or seqs != sorted(set(seqs)) or \
                    seqs[0] < post.first_seq or seqs[-1] > post.last_seq:
                post.violations.append(f"seqs {seqs[:5]}... not increasing inside {post.key}")
        if post.violations:
            with self._lock:
                self.violations += [f"{post.key}: {v}" for v in post.violations]
            resp = Response(400, body=json.dumps({"error": "; ".join(post.violations)}))
        else:
            resp = self._choose(post)
        post.planned = resp.describe()
        self.log(f"POST #{post.index} {post.key} ({len(post.records)} records): {post.planned}")

        post.phase = "delaying"
        if not self._wait(resp.delay) or resp.drop or (resp.delay and client_gone(handler)):
            post.outcome = ("dropped" if resp.drop else "landing stopped"
                            if self._stopping.is_set() else "client gone before it was stored")
            post.phase = "done"
            handler.close_connection = True
            self.log(f"POST #{post.index} {post.key}: {post.outcome}")
            return
        status, text = resp.status, resp.body
        if 200 <= status < 300:
            if self.forward_to:
                status, text = self._forward(post, body)
            else:
                status, stored_text = self._store(post)
                text = stored_text if text is None else text
        else:
            post.outcome = f"answered {status}"
        post.phase = "stored"
        if not self._wait(resp.after):
            post.outcome += ", landing stopped before answering"
            post.phase = "done"
            handler.close_connection = True
            return
        post.phase = "answering"
        if text is None:
            text = json.dumps({"status": status})
        try:
            handler.answer(status, text, resp.headers)
            post.status = status
            post.answered = time.monotonic()
        except OSError as e:
            post.outcome += f", client gone ({type(e).__name__})"
            handler.close_connection = True
        post.phase = "done"
        self.log(f"POST #{post.index} {post.key}: {post.outcome} -> {post.status}")

    def handle_head(self, handler: "_Handler") -> None:
        with self._lock:
            self.probes.append((time.monotonic(), self.head_status))
        handler.send_response(self.head_status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


class _Handler(http.server.BaseHTTPRequestHandler):
    owner: ScriptedLanding
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass

    def answer(self, status: int, text: str, headers: dict | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/healthz":
            self.answer(200, '"ok"')
        else:
            self.answer(404, json.dumps({"error": "not found"}))

    def do_HEAD(self) -> None:  # noqa: N802
        self.owner.handle_head(self)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client died before its body was all here (a kill between the headers and the
            # body): nothing arrived to judge, as for any HTTP server.
            self.close_connection = True
            return
        if self.path != BATCH_PATH:
            self.answer(404, json.dumps({"error": f"POST {BATCH_PATH}"}))
            return
        try:
            self.owner.handle_post(self, body)
        except (OSError, socket.error):
            self.close_connection = True


def main() -> None:
    import argparse
    ap = argparse.ArgumentParser(description="a scripted landing zone for tests")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--status", type=int, default=200, help="answer every POST with this")
    ap.add_argument("--delay", type=float, default=0, help="seconds before answering")
    ap.add_argument("--retry-after", default="")
    ap.add_argument("--forward-to", default=None, help="a real landing's batch URL")
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    landing = ScriptedLanding(int(port), host, forward_to=a.forward_to, log_path="/dev/stderr")
    landing.default = Response(a.status, {"Retry-After": a.retry_after} if a.retry_after else {},
                               delay=a.delay)
    print(f"listening on {landing.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        landing.stop()


if __name__ == "__main__":
    sys.exit(main())

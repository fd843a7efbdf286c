"""Shared helpers for Ferry's integration tests (standard library only, Python 3.11).

The tests run the real programs on loopback with ports chosen at run time: mosquitto, `ferry`,
`ferry-landing`, and the tools `ferry-pub` / `ferry-sub-count`. Every test file looks like

    import harness

    def test(s: harness.Session):
        broker = s.broker()
        landing = s.landing()
        ferry = s.ferry(broker, landing)
        harness.publish(broker, "zigbee2mqtt/dev{p}", count=100)
        ...

    if __name__ == "__main__":
        harness.main(test)

`main` runs the test, kills every process it started, removes the session's temporary
directory on success and keeps it (and prints the path and the tails of the logs) on failure,
and exits non-zero on failure.

Where to find the programs (environment):
    FERRY_BIN_DIR      the CMake build directory (default /work/main/build)
    FERRY_SOURCE_DIR   the source tree (default: two levels above this file)
    FERRY_BIN, FERRY_LANDING_BIN, FERRY_TOOLS_DIR   override single paths

Everything the tests assume about ferry beyond shared/spec (config keys, /status layout, metric
labels, ...) is in the ASSUMPTIONS section right below, so it can be adjusted in one place.
"""

from __future__ import annotations

import atexit
import ctypes
import getpass
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# =============================================================================================
# ASSUMPTIONS about ferry and ferry-landing beyond the written contract. Adjust them here.
# =============================================================================================

# Config keys the tests set beyond the contract's fixed ones (merged into every config).
CONFIG_TUNING: dict = {
    # The product waits up to 30 s to gather a group of QoS 1 messages on a quiet gateway (less
    # flash wear); the tests publish a few messages and wait for them, so they commit at 1 s.
    # A test of that wait sets it back (None deletes the key).
    "storage": {"commit_interval_qos1": "1s"},
    "upstream": {
        "batch": {"linger": "200ms"},
        "backoff": {"initial": "100ms", "max": "1s"},
    },
}
# Normalization rules: a top-level list of {"topic": "zigbee2mqtt/{device}", ...}.
ROUTES_KEY = "routes"

# `ferry-landing` prints this line on stdout (flushed) once it accepts connections.
LANDING_LISTEN_RE = re.compile(r"listening on (https?://[^\s/]+)")
# The path ferry posts to, appended to the landing's base URL.
LANDING_BATCH_PATH = "/v1/batches"

# /status: the keys that must be there; a list names the keys required inside an object.
STATUS_REQUIRED: dict[str, list[str] | None] = {
    "version": None,
    "uptime_seconds": None,
    "gateway": None,
    "queue": ["records", "bytes", "oldest_age_seconds"],
    "dead_letters": None,
    "mqtt": ["connected"],
    "upstream": ["state"],
    "last_error": None,
    "counters": None,
}


def status_queue_records(status: dict) -> int:
    return status["queue"]["records"]


def status_mqtt_connected(status: dict) -> bool:
    return bool(status["mqtt"]["connected"])


def status_upstream_state(status: dict) -> str:
    return status["upstream"]["state"]


# Upstream states that mean "nothing wrong" (the contract names `ok`; ferry reports `idle` when
# it has nothing to send).
UPSTREAM_HEALTHY_STATES = {"ok", "idle"}


# The metrics of the contract's table and their types.
CONTRACT_METRICS: dict[str, str] = {
    "ferry_records_received_total": "counter",
    "ferry_records_stored_total": "counter",
    "ferry_records_delivered_total": "counter",
    "ferry_records_dead_lettered_total": "counter",
    "ferry_records_dropped_total": "counter",
    "ferry_queue_records": "gauge",
    "ferry_queue_bytes": "gauge",
    "ferry_queue_oldest_age_seconds": "gauge",
    "ferry_dead_letters": "gauge",
    "ferry_upstream_requests_total": "counter",
    "ferry_upstream_bytes_sent_total": "counter",
    "ferry_mqtt_connected": "gauge",
}


def failed_upstream_requests(metrics: "Metrics") -> float:
    """Requests that did not get a 2xx: ferry_upstream_requests_total{code} with any code label
    not starting with "2" (connection errors are assumed to carry a non-numeric code such as
    "error" or "connect")."""
    return sum(
        value
        for labels, value in metrics.samples("ferry_upstream_requests_total")
        if not labels.get("code", "").startswith("2")
    )


# `ferry status --url URL` takes the status server's base URL.
def status_cli_args(base_url: str) -> list[str]:
    return ["status", "--url", base_url]


# MQTT at QoS 1 is at-least-once: a message stored but not yet acknowledged when ferry is killed
# comes again. The tests demand exactly once at the landing zone; set this to True if the agent
# is allowed to produce such duplicates (they are still counted and printed).
ALLOW_MQTT_REDELIVERY_DUPLICATES = False

# `ferry version` prints something matching this.
VERSION_RE = re.compile(r"\d+\.\d+\.\d+")

# =============================================================================================
# Paths
# =============================================================================================

SOURCE_DIR = Path(os.environ.get("FERRY_SOURCE_DIR") or Path(__file__).resolve().parents[2])
# The real device corpus, found as the unit tests and benchmarks find it: FERRY_DEVICES_DIR, else
# ../shared/data/devices beside the checkout, else the team's work area (a clone elsewhere, as CI's).
DEVICES_DIR = Path(os.environ.get("FERRY_DEVICES_DIR") or SOURCE_DIR.parent / "shared" / "data" / "devices")
if not DEVICES_DIR.is_dir() and Path("/work/shared/data/devices").is_dir():
    DEVICES_DIR = Path("/work/shared/data/devices")
BIN_DIR = Path(os.environ.get("FERRY_BIN_DIR") or "/work/main/build")
FERRY_BIN = Path(os.environ.get("FERRY_BIN") or BIN_DIR / "agent" / "ferry")
LANDING_BIN = Path(os.environ.get("FERRY_LANDING_BIN") or BIN_DIR / "agent" / "ferry-landing")
TOOLS_DIR = Path(os.environ.get("FERRY_TOOLS_DIR") or BIN_DIR / "tests")
MOSQUITTO_BIN = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
ZSTD_BIN = shutil.which("zstd") or "/usr/bin/zstd"

RFC3339_MS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
BATCH_FILE_RE = re.compile(r"^([A-Za-z0-9_-]{1,64})\.([a-z0-9]{1,32})\.(\d+)-(\d+)\.ndjson\.zst$")


def tool(name: str) -> Path:
    path = TOOLS_DIR / name
    assert path.exists(), f"{path} is missing: build it (cmake --build <build> --target {name})"
    return path


def require(path: Path, what: str) -> Path:
    assert Path(path).exists(), f"{what} not found at {path} (set FERRY_BIN_DIR)"
    return Path(path)


# =============================================================================================
# Small utilities
# =============================================================================================

_handed_out_ports: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (never the same one twice)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port
    raise RuntimeError("no free port")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Hopeless(AssertionError):
    """Raised inside a wait_for probe when waiting longer cannot help."""


class ProcessDied(Hopeless):
    """A process the test needs has exited."""


def wait_for(pred: Callable[[], Any], timeout: float, what: str = "condition",
             interval: float = 0.1) -> Any:
    """Calls pred() until it returns something truthy and returns that. Exceptions from pred
    count as "not yet", except Hopeless (such as ProcessDied). Raises AssertionError naming
    `what` and the last value after timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = pred()
            if last:
                return last
        except Hopeless:
            raise
        except Exception as e:  # noqa: BLE001 - a failing probe means "not yet"
            last = f"{type(e).__name__}: {e}"
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def deep_merge(base: dict, overrides: dict | None) -> dict:
    """A copy of `base` with `overrides` merged in: dicts recursively, anything else replaced;
    an override of None deletes the key."""
    out = json.loads(json.dumps(base))
    for key, value in (overrides or {}).items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = json.loads(json.dumps(value))
    return out


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    """(status code, body) of a GET; raises OSError when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


# =============================================================================================
# Prometheus text
# =============================================================================================

_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$")
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def _parse_labels(text: str) -> dict[str, str]:
    labels, pos = {}, 0
    while pos < len(text):
        m = _LABEL_RE.match(text, pos)
        if not m:
            raise ValueError(f"bad labels: {text!r}")
        labels[m.group(1)] = re.sub(r"\\(.)", lambda c: "\n" if c.group(1) == "n" else c.group(1),
                                    m.group(2))
        pos = m.end()
    return labels


def series_key(name: str, labels: dict[str, str]) -> str:
    if not labels:
        return name
    return name + "{" + ",".join(f'{k}="{labels[k]}"' for k in sorted(labels)) + "}"


class Metrics(dict):
    """Parsed /metrics: maps 'name' or 'name{a="x",b="y"}' (labels sorted) to its value.
    `types` maps names to the type of their # TYPE line."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text
        self.types: dict[str, str] = {}
        self._samples: list[tuple[str, dict[str, str], float]] = []
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("# TYPE "):
                parts = line.split()
                if len(parts) >= 4:
                    self.types[parts[2]] = parts[3]
                continue
            if not line or line.startswith("#"):
                continue
            m = _SAMPLE_RE.match(line)
            if not m:
                raise ValueError(f"bad metrics line: {line!r}")
            name, labels, value = m.group(1), _parse_labels(m.group(2) or ""), float(m.group(3))
            self[series_key(name, labels)] = value
            self._samples.append((name, labels, value))

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        return [(labels, value) for n, labels, value in self._samples if n == name]

    def sum(self, name: str, **labels: str) -> float:
        """Sum of every series of `name` whose labels include `labels` (0 when there is none)."""
        return sum(value for have, value in self.samples(name)
                   if all(have.get(k) == v for k, v in labels.items()))


# =============================================================================================
# Processes
# =============================================================================================

_live: set[subprocess.Popen] = set()


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the test process dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _kill_all() -> None:
    for proc in list(_live):
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        _live.discard(proc)


atexit.register(_kill_all)


def spawn(argv: list, log: Path, stdout: Path | None = None) -> subprocess.Popen:
    """Starts argv with stderr (and stdout unless `stdout` is given) appended to `log`."""
    with open(log, "ab") as err, open(stdout or log, "ab") as out:
        proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, preexec_fn=_die_with_parent, start_new_session=True)
    _live.add(proc)
    return proc


class Process:
    """A program the harness started; subclasses know how to start and check it."""

    def __init__(self, session: "Session", name: str):
        self.session = session
        self.name = name
        self.dir = session.path(name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        session.processes.append(self)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, argv: list, stdout: Path | None = None) -> None:
        assert not self.alive(), f"{self.name} is already running"
        with open(self.log, "ab") as f:
            f.write(f"---- {time.strftime('%H:%M:%S')} {' '.join(map(str, argv))}\n".encode())
        self.proc = spawn(argv, self.log, stdout)

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)
        _live.discard(self.proc)

    def stop(self, timeout: float = 10, sig: int = signal.SIGTERM) -> int:
        """Sends `sig` (SIGTERM), waits, returns the exit code; kills and fails after timeout."""
        assert self.proc is not None, f"{self.name} was never started"
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"{self.name} did not exit within {timeout} s of signal {sig}")
        _live.discard(self.proc)
        return self.proc.returncode

    def check_alive(self) -> None:
        if not self.alive():
            code = None if self.proc is None else self.proc.returncode
            raise ProcessDied(f"{self.name} is not running (exit code {code}); log:\n"
                              f"{tail(self.log)}")


# =============================================================================================
# mosquitto
# =============================================================================================

class Broker(Process):
    """mosquitto on 127.0.0.1:<port> with persistence in the session's directory. stop() is
    SIGTERM (mosquitto saves its sessions), kill() SIGKILL (they are lost), start() again on
    the same port and the same persistence file."""

    def __init__(self, session: "Session", name: str = "broker", port: int | None = None,
                 extra_config: str = ""):
        super().__init__(session, name)
        self.host = "127.0.0.1"
        self.conf = self.dir / "mosquitto.conf"
        self.broker_log = self.dir / "mosquitto.log"
        self.extra_config = extra_config
        for attempt in range(3):
            self.port = port or free_port()
            self._write_config()
            try:
                self.start()
                return
            except ProcessDied:
                if port or attempt == 2:
                    raise
                print(f"mosquitto could not start on port {self.port}, trying another one")

    def _write_config(self) -> None:
        self.conf.write_text("\n".join([
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.dir}/",
            "max_inflight_messages 1000",
            "max_queued_messages 1000000",
            f"log_dest file {self.broker_log}",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "log_type subscribe",
            f"user {getpass.getuser()}",
            self.extra_config, "",
        ]))

    def start(self, timeout: float = 10) -> None:
        self._spawn([require(MOSQUITTO_BIN, "mosquitto"), "-c", self.conf])
        wait_for(lambda: self._check_started() and port_open(self.port), timeout,
                 f"mosquitto to listen on port {self.port}", interval=0.05)

    def _check_started(self) -> bool:
        self.check_alive()
        return True

    def restart(self) -> None:
        if self.alive():
            self.stop()
        self.start()

    def log_size(self) -> int:
        return self.broker_log.stat().st_size if self.broker_log.exists() else 0

    def log_text(self, since: int = 0) -> str:
        with open(self.broker_log, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def subscribed(self, client_id: str, topic: str, since: int = 0) -> bool:
        """True once the broker logged a subscription of `client_id` to `topic` after `since`."""
        pattern = re.compile(rf"^\d+: {re.escape(client_id)} \d+ {re.escape(topic)}$", re.M)
        return bool(pattern.search(self.log_text(since)))

    def wait_subscribed(self, client_id: str, topics: list[str], since: int = 0,
                        timeout: float = 15) -> None:
        for topic in topics:
            wait_for(lambda: self.subscribed(client_id, topic, since), timeout,
                     f"{client_id} to subscribe to {topic}")


# =============================================================================================
# ferry-landing
# =============================================================================================

@dataclass
class Batch:
    """One stored file of the landing zone."""
    path: Path
    gateway: str
    epoch: str
    first_seq: int
    last_seq: int
    records: list[dict] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.gateway}.{self.epoch}.{self.first_seq}-{self.last_seq}"


def read_ndjson_zst(path: Path) -> list[dict]:
    """Decompresses with the `zstd` command and parses every line as a JSON object, checking
    the protocol's framing: UTF-8, every line ends in a newline, no blank lines."""
    run = subprocess.run([ZSTD_BIN, "-dc", "--", str(path)], capture_output=True)
    assert run.returncode == 0, f"zstd -dc {path} failed: {run.stderr.decode(errors='replace')}"
    text = run.stdout.decode("utf-8")  # raises on invalid UTF-8
    assert text.endswith("\n"), f"{path}: last line does not end in a newline"
    records = []
    for n, line in enumerate(text[:-1].split("\n"), 1):
        assert line.strip(), f"{path}: line {n} is blank"
        record = json.loads(line)
        assert isinstance(record, dict), f"{path}: line {n} is not a JSON object"
        records.append(record)
    return records


class Landing(Process):
    """ferry-landing on 127.0.0.1. With port=0 it picks its own port and the harness reads it
    from the `listening on http(s)://HOST:PORT` line; restart() (or start() after stop()) reuses
    that port and the same root, so ferry's configured URL stays valid. `extra_args` go on its
    command line (e.g. --tls-cert F --tls-key F)."""

    def __init__(self, session: "Session", name: str = "landing", port: int = 0,
                 root: Path | None = None, token_file: Path | None = None,
                 extra_args: list = ()):
        super().__init__(session, name)
        self.port = port
        self.root = Path(root or self.dir / "root")
        self.root.mkdir(parents=True, exist_ok=True)
        self.token_file = token_file
        self.extra_args = list(extra_args)
        self.stdout = self.dir / "stdout.log"
        self.url = ""
        self._cache: dict[Path, list[dict]] = {}
        self.start()

    def start(self, timeout: float = 15) -> None:
        argv = [require(LANDING_BIN, "ferry-landing"), "--listen", f"127.0.0.1:{self.port}",
                "--root", self.root]
        if self.token_file:
            argv += ["--token-file", self.token_file]
        argv += self.extra_args
        offset = self.stdout.stat().st_size if self.stdout.exists() else 0
        self._spawn(argv, stdout=self.stdout)
        self.url = wait_for(lambda: self._listening_url(offset), timeout,
                            f"'listening on http://...' from {self.name}", interval=0.05)
        self.port = int(self.url.rsplit(":", 1)[1])
        wait_for(lambda: port_open(self.port), timeout, f"{self.name} port {self.port}")

    def _listening_url(self, offset: int) -> str | None:
        self.check_alive()
        with open(self.stdout, "rb") as f:
            f.seek(offset)
            m = LANDING_LISTEN_RE.search(f.read().decode("utf-8", "replace"))
        return m.group(1) if m else None

    def restart(self) -> None:
        if self.alive():
            self.stop()
        self.start()

    @property
    def batches_url(self) -> str:
        return self.url + LANDING_BATCH_PATH

    def files(self) -> list[Path]:
        """Every stored batch file, ordered by (gateway, epoch, first_seq)."""
        def order(p: Path):
            m = BATCH_FILE_RE.match(p.name)
            return (m.group(1), m.group(2), int(m.group(3))) if m else (p.name, "", 0)
        return sorted(self.root.glob("gateway=*/dt=*/*.ndjson.zst"), key=order)

    def batches(self) -> list[Batch]:
        """Every stored file with its records, in key order. Checks the file layout."""
        out = []
        for path in self.files():
            m = BATCH_FILE_RE.match(path.name)
            assert m, f"stored file name is not <gateway>.<epoch>.<first>-<last>.ndjson.zst: {path}"
            gateway, epoch, first, last = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
            assert path.parent.parent.name == f"gateway={gateway}", f"wrong directory: {path}"
            assert re.fullmatch(r"dt=\d{4}-\d{2}-\d{2}", path.parent.name), f"bad dt dir: {path}"
            if path not in self._cache:
                self._cache[path] = read_ndjson_zst(path)  # files are immutable once renamed
            out.append(Batch(path, gateway, epoch, first, last, self._cache[path]))
        return out

    def records(self) -> list[dict]:
        return [r for b in self.batches() for r in b.records]

    def count(self) -> int:
        return len(self.records())

    def wait_records(self, n: int, timeout: float = 60, settle: float = 1.5,
                     ferry: "Ferry | None" = None, stall: float = 15) -> list[dict]:
        """Waits until at least n records are stored, then `settle` seconds more (so extra
        records that should not be there get a chance to show up) and returns all of them.
        Given `ferry`, fails early when nothing arrived for `stall` seconds while ferry's queue
        is empty (the missing records are not coming)."""
        progress = {"count": -1, "since": time.monotonic()}

        def enough() -> bool:
            count = self.count()
            if count != progress["count"]:
                progress.update(count=count, since=time.monotonic())
            elif ferry and time.monotonic() - progress["since"] > stall:
                queued = ferry.metric("ferry_queue_records")
                if queued == 0:
                    raise Hopeless(f"only {count} of {n} records at the landing zone, none for "
                                   f"{stall:.0f} s, and ferry's queue is empty")
            return count >= n

        wait_for(enough, timeout, f"{n} records at the landing zone", interval=0.25)
        time.sleep(settle)
        return self.records()


# =============================================================================================
# ferry
# =============================================================================================

class Ferry(Process):
    """The agent, with a JSON config written to the session's directory: the contract's fixed
    keys, CONFIG_TUNING, then `overrides` (deep-merged; None deletes a key)."""

    def __init__(self, session: "Session", broker: Broker | None, landing: Landing | None,
                 name: str = "ferry", gateway: str = "gw-it",
                 subscriptions: list[str] = ("zigbee2mqtt/+",), overrides: dict | None = None,
                 start: bool = True):
        super().__init__(session, name)
        self.broker = broker
        self.landing = landing
        self.gateway = gateway
        self.client_id = f"ferry-{gateway}"
        self.subscriptions = list(subscriptions)
        self.status_port = free_port()
        self.storage_path = self.dir / "queue.db"
        self.config = deep_merge(self.base_config(), overrides)
        self.config_path = self.dir / "ferry.json"
        self.write_config()
        self.starts = 0
        if start:
            self.start()

    def base_config(self) -> dict:
        upstream_url = (self.landing.batches_url if self.landing
                        else f"http://127.0.0.1:{free_port()}{LANDING_BATCH_PATH}")
        config = {
            "gateway": {"id": self.gateway},
            "storage": {"path": str(self.storage_path)},
            "mqtt": {
                "host": "127.0.0.1",
                "port": self.broker.port if self.broker else free_port(),
                "client_id": self.client_id,
                "subscriptions": [{"topic": t, "qos": 1} for t in self.subscriptions],
            },
            "upstream": {"url": upstream_url},
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
        }
        return deep_merge(config, CONFIG_TUNING)

    def write_config(self) -> None:
        self.config_path.write_text(json.dumps(self.config, indent=2) + "\n")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.status_port}"

    def start(self, wait: bool = True, timeout: float = 30, wrapper: list = ()) -> None:
        """Starts `ferry run`; with wait, returns once /readyz says 200 and, on the first start,
        once the broker logged its subscriptions (later starts resume the persistent session).
        `wrapper` goes before the command (e.g. strace with fault injection); then self.proc is
        the wrapper, and kill_group() ends both."""
        since = self.broker.log_size() if self.broker else 0
        self._spawn([*wrapper, require(FERRY_BIN, "ferry"), "run", "--config", self.config_path])
        self.starts += 1
        if not wait:
            return
        self.wait_ready(timeout)
        if self.broker and self.starts == 1:
            self.broker.wait_subscribed(self.client_id, self.subscriptions, since, timeout)

    def restart(self) -> None:
        if self.alive():
            self.stop()
        self.start()

    def kill_group(self) -> None:
        """SIGKILL to ferry's whole process group (ferry and a wrapper it was started under)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.kill()

    def get(self, path: str, timeout: float = 5) -> tuple[int, str]:
        return http_get(self.base_url + path, timeout)

    def status(self) -> dict:
        code, body = self.get("/status")
        assert code == 200, f"/status answered {code}: {body}"
        return json.loads(body)

    def metrics(self) -> Metrics:
        code, body = self.get("/metrics")
        assert code == 200, f"/metrics answered {code}: {body}"
        return Metrics(body)

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics().sum(name, **labels)

    def wait_metric(self, name: str, pred: Callable[[float], bool], timeout: float = 30,
                    what: str = "", **labels: str) -> float:
        def probe():
            value = self.metric(name, **labels)
            return (value,) if pred(value) else None
        return wait_for(probe, timeout, what or f"{name} to satisfy the condition")[0]

    def wait_ready(self, timeout: float = 30) -> None:
        def ready():
            self.check_alive()
            return self.get("/readyz", timeout=2)[0] == 200
        wait_for(ready, timeout, f"{self.name} /readyz to answer 200")

    def run_cli(self, *args: str, timeout: float = 15) -> subprocess.CompletedProcess:
        return run_ferry(*args, timeout=timeout)


def run_ferry(*args, timeout: float = 15) -> subprocess.CompletedProcess:
    """Runs `ferry ARGS...` to completion and returns the CompletedProcess (text output)."""
    return subprocess.run([str(require(FERRY_BIN, "ferry")), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


# =============================================================================================
# Publishing (ferry-pub)
# =============================================================================================

_PUB_RESULT_RE = re.compile(r"published (\d+) acked (\d+) in ([\d.]+) s")


@dataclass
class PubResult:
    published: int
    acked: int
    seconds: float
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"published {self.published} acked {self.acked} in {self.seconds:.2f} s"


def _pub_argv(broker: Broker, topic: str, count: int, publishers: int, qos: int, rate: float,
              payload: str | None, replay: Path | None, client_prefix: str | None,
              extra: list) -> list:
    argv = [tool("ferry-pub"), "--host", broker.host, "--port", broker.port, "--qos", qos,
            "--publishers", publishers, "--rate", rate]
    if replay is not None:
        argv += ["--replay", replay]
    else:
        argv += ["--topic", topic, "--count", count]
    if payload is not None:
        argv += ["--payload", payload]
    if client_prefix:
        argv += ["--client-prefix", client_prefix]
    return argv + list(extra)


def _pub_result(rc: int, out: str, err: str, check: bool) -> PubResult:
    m = None
    for m in _PUB_RESULT_RE.finditer(out):
        pass
    assert m, f"ferry-pub printed no result line (exit {rc}):\n{out}\n{err}"
    res = PubResult(int(m.group(1)), int(m.group(2)), float(m.group(3)), rc, out, err)
    if check:
        assert rc == 0, f"ferry-pub failed (exit {rc}): {res}\n{err}"
    return res


def publish(broker: Broker, topic: str = "zigbee2mqtt/dev{p}", count: int = 1,
            publishers: int = 1, qos: int = 1, rate: float = 0, payload: str | None = None,
            replay: Path | None = None, client_prefix: str | None = None, extra: list = (),
            timeout: float = 120, check: bool = True) -> PubResult:
    """Runs ferry-pub to completion. {i} in topic/payload is the message number (1..count),
    {p} the publisher number (1..publishers). With check, fails unless every message was
    acknowledged."""
    argv = _pub_argv(broker, topic, count, publishers, qos, rate, payload, replay, client_prefix,
                     extra)
    run = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    return _pub_result(run.returncode, run.stdout, run.stderr, check)


class BackgroundPublish:
    """ferry-pub running while the test does other things; wait() collects its result."""

    def __init__(self, session: "Session", argv: list):
        self.out = session.path(f"pub-{len(session.processes)}-{time.monotonic_ns()}.out")
        self.err = self.out.with_suffix(".err")
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        _live.add(self.proc)

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float = 120, check: bool = True) -> PubResult:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"ferry-pub still running after {timeout} s")
        finally:
            _live.discard(self.proc)
        return _pub_result(rc, self.out.read_text(), self.err.read_text(), check)


def start_publish(session: "Session", broker: Broker, topic: str = "zigbee2mqtt/dev{p}",
                  count: int = 1, publishers: int = 1, qos: int = 1, rate: float = 0,
                  payload: str | None = None, replay: Path | None = None,
                  client_prefix: str | None = None, extra: list = ()) -> BackgroundPublish:
    argv = _pub_argv(broker, topic, count, publishers, qos, rate, payload, replay, client_prefix,
                     extra)
    return BackgroundPublish(session, argv)


def write_replay(path: Path, messages: list[tuple[str, bytes | str]]) -> Path:
    """Writes a ferry-pub --replay file: (topic, payload) pairs; bytes go as payload_hex."""
    with open(path, "w") as f:
        for topic, payload in messages:
            if isinstance(payload, bytes):
                f.write(json.dumps({"topic": topic, "payload_hex": payload.hex()}) + "\n")
            else:
                f.write(json.dumps({"topic": topic, "payload": payload}) + "\n")
    return path


# =============================================================================================
# Checks shared by several tests
# =============================================================================================

def check_record_envelope(record: dict, gateway: str) -> tuple[str, int]:
    """Checks the protocol's fixed fields of one record; returns (epoch, seq)."""
    rid = record.get("id")
    m = re.fullmatch(rf"{re.escape(gateway)}\.([a-z0-9]{{1,32}})\.(\d+)", str(rid))
    assert m, f"id {rid!r} is not <gateway>.<epoch>.<seq>: {record}"
    assert int(m.group(2)) == record.get("seq"), f"id and seq disagree: {record}"
    assert record.get("gateway") == gateway, f"wrong gateway: {record}"
    assert record.get("source") == "mqtt", f"source is not mqtt: {record}"
    for key in ("ts", "received_at"):
        assert RFC3339_MS_RE.match(str(record.get(key))), f"{key} is not RFC 3339 ms UTC: {record}"
    assert record.get("ts_source") in ("payload", "received"), f"bad ts_source: {record}"
    assert isinstance(record.get("data"), dict), f"data is not an object: {record}"
    return m.group(1), int(m.group(2))


def check_batches_in_order(batches: list[Batch], contiguous: bool = False) -> list[int]:
    """Within every file seq strictly increases and stays inside the key's range; files in key
    order have increasing, non-overlapping ranges (contiguous: each starts right after the
    previous one ends). Returns all seqs in order."""
    seqs: list[int] = []
    prev: Batch | None = None
    for b in batches:
        assert b.records, f"{b.path} holds no records"
        got = [r["seq"] for r in b.records]
        assert all(x < y for x, y in zip(got, got[1:])), f"{b.key}: seq not increasing: {got[:20]}"
        assert b.first_seq <= got[0] and got[-1] <= b.last_seq, f"{b.key}: seq outside key range"
        if prev is not None and prev.epoch == b.epoch:
            assert b.first_seq > prev.last_seq, f"ranges overlap: {prev.key} then {b.key}"
            if contiguous:
                assert b.first_seq == prev.last_seq + 1, f"gap between {prev.key} and {b.key}"
        seqs += got
        prev = b
    return seqs


def check_exactly_once(records: list[dict], expected: set[tuple[int, int]]) -> None:
    """No record id twice; every expected (pub, seq) of the payloads exactly once, no others."""
    ids = [r["id"] for r in records]
    dup_ids = len(ids) - len(set(ids))
    keys = [(r["data"].get("pub"), r["data"].get("seq")) for r in records]
    seen: dict[tuple, int] = {}
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
    dup_msgs = sum(n - 1 for n in seen.values() if n > 1)
    missing = expected - seen.keys()
    unexpected = seen.keys() - expected
    print(f"records {len(records)}, distinct messages {len(seen)}, expected {len(expected)}, "
          f"duplicate ids {dup_ids}, duplicate messages {dup_msgs}, missing {len(missing)}, "
          f"unexpected {len(unexpected)}")
    assert dup_ids == 0, f"{dup_ids} record ids appear more than once"
    assert not missing, f"{len(missing)} messages missing, e.g. {sorted(missing)[:10]}"
    assert not unexpected, f"unexpected messages, e.g. {sorted(unexpected, key=str)[:10]}"
    if dup_msgs:
        twice = [k for k, n in seen.items() if n > 1][:5]
        print("stored more than once:")
        for r in records:
            if (r["data"].get("pub"), r["data"].get("seq")) in twice:
                print(f"  {r['id']} received_at {r['received_at']} data {json.dumps(r['data'])}")
    if not ALLOW_MQTT_REDELIVERY_DUPLICATES:
        assert dup_msgs == 0, (f"{dup_msgs} messages stored twice (MQTT redelivery), e.g. "
                               f"{[k for k, n in seen.items() if n > 1][:10]}")


# =============================================================================================
# Sessions
# =============================================================================================

class Session:
    """One test's temporary directory and processes."""

    def __init__(self, name: str):
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"ferry-{name}-"))
        # Searchable by others: a sandboxed transform runs as nobody when the tests run as root
        # (docs/transforms.md), and must reach its script and private directory in here.
        self.dir.chmod(0o711)
        self.processes: list[Process] = []

    def path(self, *parts: str) -> Path:
        return self.dir.joinpath(*parts)

    def broker(self, **kwargs) -> Broker:
        return Broker(self, **kwargs)

    def landing(self, **kwargs) -> Landing:
        return Landing(self, **kwargs)

    def ferry(self, broker: Broker | None, landing: Landing | None, **kwargs) -> Ferry:
        return Ferry(self, broker, landing, **kwargs)

    def pin_binaries(self) -> None:
        """Copies ferry and ferry-landing into the session's directory and starts the copies
        from now on, so a rebuild of the build directory during a long test (other work on the
        same tree) neither breaks a restart halfway through writing the file nor mixes two
        versions in one run. A copy is used only once it runs (`version` / `--help`)."""
        global FERRY_BIN, LANDING_BIN
        pinned = {}
        for name, src, check in (("ferry", FERRY_BIN, ["version"]),
                                 ("ferry-landing", LANDING_BIN, ["--help"])):
            dst = self.path("bin", name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(60):
                try:
                    shutil.copy2(require(src, name), dst)
                    run = subprocess.run([str(dst), *check], capture_output=True, timeout=10)
                    if run.returncode == 0:
                        break
                except (OSError, subprocess.TimeoutExpired):
                    pass
                time.sleep(1)  # being rebuilt: wait for the linker to finish
            else:
                raise AssertionError(f"{src} does not run (is it being rebuilt?)")
            pinned[name] = dst
        FERRY_BIN, LANDING_BIN = pinned["ferry"], pinned["ferry-landing"]

    def close(self, ok: bool) -> None:
        for p in self.processes:
            p.kill()
        _kill_all()
        if ok:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        for p in self.processes:
            print(f"\n---- last lines of {p.log} ----\n{tail(p.log)}", file=sys.stderr)
        print(f"\nkept {self.dir}", file=sys.stderr)


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def main(test: Callable[[Session], None]) -> None:
    """Runs test(session) and exits 0 if it passed, 1 if it failed."""
    signal.signal(signal.SIGTERM, _raise_exit)
    name = Path(sys.argv[0]).stem
    session = Session(name)
    ok = False
    started = time.monotonic()
    try:
        test(session)
        ok = True
    except BaseException:  # noqa: BLE001 - report everything, including Ctrl-C
        traceback.print_exc()
    finally:
        session.close(ok)
    print(f"{name}: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.1f} s", flush=True)
    sys.exit(0 if ok else 1)

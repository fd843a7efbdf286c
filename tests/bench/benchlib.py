"""Shared pieces of Ferry's benchmark suite (standard library only).

Reuses the integration harness (tests/integration/harness.py) for the processes: mosquitto,
ferry-landing, ferry and the tools. Adds what a benchmark needs on top: a broker tuned for
throughput, process figures from /proc (CPU seconds, peak RSS, bytes written), a poller that
times a ferry counter, medians, and the result table.

Every figure is the median of `runs` repetitions and is put against a ceiling measured in the
same repetition (a ratio), because the machine is shared and absolute numbers drift.
"""

from __future__ import annotations

import getpass
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE.parents[1]
sys.path.insert(0, str(SOURCE_DIR / "tests" / "integration"))

import harness  # noqa: E402  (needs FERRY_BIN_DIR set by run.py before the first import)

CLK_TCK = os.sysconf("SC_CLK_TCK")
DEVICES_DIR = Path(os.environ.get("FERRY_DEVICES_DIR") or SOURCE_DIR.parent / "shared" / "data" / "devices")
if not DEVICES_DIR.is_dir() and Path("/work/shared/data/devices").is_dir():
    DEVICES_DIR = Path("/work/shared/data/devices")  # a clone elsewhere: the team's work area
ZIGBEE_ROUTE = {"topic": "zigbee2mqtt/{device}", "time": {"field": "last_seen"}}


# =============================================================================================
# Processes
# =============================================================================================

class BenchBroker(harness.Broker):
    """mosquitto tuned for throughput: persistence off (unless `persistence`), 1000 QoS 1
    messages in flight per client, queues deep enough that a slow subscriber loses nothing."""

    def __init__(self, session: harness.Session, name: str = "broker", persistence: bool = False):
        self.persistence = persistence
        super().__init__(session, name=name)

    def _write_config(self) -> None:
        self.conf.write_text("\n".join([
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.dir}/",
            "max_inflight_messages 1000",
            "max_queued_messages 20000000",
            "max_queued_bytes 0",
            f"log_dest file {self.broker_log}",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "log_type subscribe",
            f"user {getpass.getuser()}", "",
        ]))


class ProcStat:
    """Figures of a running process from /proc/PID."""

    def __init__(self, pid: int):
        self.pid = pid

    def cpu_seconds(self) -> float:
        """user + system CPU seconds so far."""
        text = Path(f"/proc/{self.pid}/stat").read_text()
        fields = text[text.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)

    def status_kib(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def hwm_mib(self) -> float:
        return self.status_kib("VmHWM") / 1024

    def rss_mib(self) -> float:
        return self.status_kib("VmRSS") / 1024

    def write_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
        raise KeyError("write_bytes")


def proc_stat(p: harness.Process) -> ProcStat:
    assert p.proc is not None
    return ProcStat(p.proc.pid)


def bench_ferry(session: harness.Session, broker, landing, name: str, qos: int = 1,
                topics: tuple[str, ...] = ("zigbee2mqtt/+",), routes: list | None = None,
                overrides: dict | None = None, upstream_url: str | None = None,
                start: bool = True) -> harness.Ferry:
    """A ferry with the product's defaults (storage.sync full, compression 3, batches of 10,000
    records, linger 1 s) plus: subscriptions at `qos`, the zigbee2mqtt route, a queue quota that
    fits 5M records, log level warn, and the harness's short upload backoff (100 ms .. 1 s)."""
    config = {
        "mqtt": {"subscriptions": [{"topic": t, "qos": qos} for t in topics]},
        # The product's QoS 1 commit interval (the harness shortens it for the tests).
        "storage": {"max_size": "8GiB", "commit_interval_qos1": None},
        "routes": routes if routes is not None else [ZIGBEE_ROUTE],
        "log": {"level": "warn"},
        # The product's batch linger (the harness shortens it to 200 ms for the tests).
        "upstream": {"batch": {"linger": "1s"}},
    }
    if upstream_url:
        config["upstream"]["url"] = upstream_url
    ferry = harness.Ferry(session, broker, landing, name=name, gateway=f"gw-{name}",
                          subscriptions=list(topics),
                          overrides=harness.deep_merge(config, overrides), start=start)
    return ferry


def dead_url() -> str:
    """An upstream URL nothing listens on."""
    return f"http://127.0.0.1:{harness.free_port()}{harness.LANDING_BATCH_PATH}"


def remove_queue(ferry: harness.Ferry) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(ferry.storage_path) + suffix).unlink(missing_ok=True)


# =============================================================================================
# Publishing and counting
# =============================================================================================

# FERRY_BENCH_PUB_NICE (run.py --pub-nice): the publishers' nice level. On this machine they
# share the cores with the broker and the subscriber; on a gateway the devices run elsewhere.
PUB_NICE = int(os.environ.get("FERRY_BENCH_PUB_NICE") or 0)


def pub_argv(broker, total: int, publishers: int, qos: int, topic: str = "zigbee2mqtt/dev{p}",
             replay: Path | None = None, rate: float = 0, loop: bool = False) -> list:
    per = max(1, total // publishers)
    argv = ["nice", "-n", PUB_NICE] if PUB_NICE else []
    argv += [harness.tool("ferry-pub"), "--host", broker.host, "--port", broker.port,
            "--qos", qos, "--publishers", publishers, "--count", per, "--rate", rate,
            "--max-inflight", 1000, "--ack-timeout", "300s"]
    if replay is not None:
        argv += ["--replay", replay] + (["--loop"] if loop else [])
    else:
        argv += ["--topic", topic]
    return argv


def start_pub(session: harness.Session, argv: list) -> harness.BackgroundPublish:
    return harness.BackgroundPublish(session, argv)


# A gap this long before the counter's last movement marks that movement as a final partial group
# that waited out storage.commit_interval (the product's 1 s), not a group that filled.
LINGER_GAP_S = 0.5


@dataclass
class Timed:
    """When a counter moved: its value and monotonic time at the first poll that saw it above
    its start, and at the poll that saw it reach the goal (or stop moving)."""
    start_value: float = 0
    first_t: float | None = None
    first_value: float = 0
    last_t: float | None = None
    last_value: float = 0
    reached: bool = False
    at_last_move: object = None  # what time_counter's `at_move` returned at the last movement
    prev_t: float | None = None  # the movement before the last one
    prev_value: float = 0

    def rate(self) -> float:
        """Per second between the first and the last movement seen."""
        return self._rate_to(self.last_t, self.last_value)

    def _rate_to(self, end_t: float | None, end_value: float) -> float:
        if self.first_t is None or end_t is None or end_t <= self.first_t:
            return 0.0
        return (end_value - self.first_value) / (end_t - self.first_t)

    def flow_end(self, linger: float = LINGER_GAP_S) -> tuple[float | None, float]:
        """(time, value) of the last movement while records flowed: the last one, unless it came
        `linger` s or more after the one before it. Such a movement is a last partial group
        committed because storage.commit_interval ran out (1 s at QoS 0), not because records
        came: counting it would add up to a second of waiting to the window."""
        if (self.prev_t is not None and self.last_t is not None
                and self.last_t - self.prev_t >= linger and self.prev_t > (self.first_t or 0)):
            return self.prev_t, self.prev_value
        return self.last_t, self.last_value

    def flow_rate(self, linger: float = LINGER_GAP_S) -> float:
        """Per second between the first movement and flow_end(): the rate while records flowed,
        comparable with a bare subscriber's first-to-last-message rate."""
        return self._rate_to(*self.flow_end(linger))

    def flow_seconds(self, linger: float = LINGER_GAP_S) -> float:
        end_t, _ = self.flow_end(linger)
        return end_t - self.first_t if end_t is not None and self.first_t is not None else 0.0


def time_counter(read: Callable[[], float], goal: float, done_feeding: Callable[[], bool],
                 stall: float = 5.0, timeout: float = 900, interval: float = 0.025,
                 on_poll: Callable[[], None] | None = None,
                 at_move: Callable[[], object] | None = None) -> Timed:
    """Polls read() until it reaches `goal`, or it stopped moving for `stall` s after
    done_feeding() became true, or `timeout`. The rate is measured from the first poll that saw
    it move (so the start-up of the publisher is not counted). `at_move` (e.g. the agent's CPU
    seconds) is sampled at each poll that saw the counter move: the last sample is the figure
    at the last movement, without the `stall` seconds of waiting after it."""
    t = Timed(start_value=read())
    t.last_value = t.start_value
    moved_at = time.monotonic()
    deadline = moved_at + timeout
    while time.monotonic() < deadline:
        now, value = time.monotonic(), read()
        if on_poll:
            on_poll()
        if value != t.last_value:
            if t.first_t is None:
                t.first_t, t.first_value = now, value
            t.prev_t, t.prev_value = t.last_t, t.last_value
            t.last_t, t.last_value, moved_at = now, value, now
            if at_move:
                t.at_last_move = at_move()
        if value >= goal:
            t.reached = True
            return t
        if done_feeding() and now - moved_at > stall:
            return t
        time.sleep(interval)
    return t


def metric_reader(ferry: harness.Ferry, name: str) -> Callable[[], float]:
    def read() -> float:
        try:
            return ferry.metric(name)
        except Exception:  # noqa: BLE001 - a busy agent may miss a poll; the next one counts
            return -1
    return read


def run_sub_count(session: harness.Session, broker, total: int, qos: int, publishers: int,
                  topic_filter: str = "zigbee2mqtt/+") -> dict:
    """The intake ceiling: ferry-sub-count on the same broker, counting `total` messages from
    ferry-pub. Returns {"rate", "count", "seconds"} (first to last message)."""
    out = session.path(f"sub-count-{time.monotonic_ns()}.out")
    with open(out, "wb") as f:
        sub = subprocess.Popen(
            [str(harness.tool("ferry-sub-count")), "--host", broker.host, "--port",
             str(broker.port), "--topic", topic_filter, "--qos", str(qos), "--expect",
             str(total), "--timeout", "900"], stdout=f, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=harness._die_with_parent)
    try:
        harness.wait_for(lambda: b"subscribed" in out.read_bytes(), 15, "ferry-sub-count")
        pub = start_pub(session, pub_argv(broker, total, publishers, qos))
        deadline = time.monotonic() + 900
        while sub.poll() is None and time.monotonic() < deadline:
            if not pub.running():
                try:  # publisher done: give the broker a few seconds, then stop counting
                    sub.wait(10)
                except subprocess.TimeoutExpired:
                    sub.send_signal(signal.SIGINT)
                break
            time.sleep(0.01)
        sub.wait(30)
        pub.wait(60, check=False)
    finally:
        if sub.poll() is None:
            sub.kill()
    m = re.search(r"received (\d+) in ([\d.]+) s", out.read_text())
    assert m, f"ferry-sub-count printed no result: {out.read_text()}"
    count, seconds = int(m.group(1)), float(m.group(2))
    return {"rate": count / seconds if seconds > 0 else 0.0, "count": count, "seconds": seconds}


# =============================================================================================
# Results
# =============================================================================================

def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


@dataclass
class Row:
    """One figure of a table. `values` and `ceilings` hold one entry per run. The target applies
    to the ratio (value / ceiling) when `target_on` is "ratio", else to the value."""
    figure: str
    unit: str
    values: list = field(default_factory=list)
    ceilings: list = field(default_factory=list)
    target: tuple[str, float] | None = None  # (">=" or "<=", threshold)
    target_on: str = "value"
    note: str = ""
    table: str = ""  # "" = the table of the benchmark that measured it; "cost" = the cost table

    def ratio_values(self) -> list:
        return [v / c if v is not None and c else None for v, c in zip(self.values, self.ceilings)]

    def median_value(self):
        return median(self.values)

    def median_ceiling(self):
        return median(self.ceilings) if self.ceilings else None

    def median_ratio(self):
        return median(self.ratio_values()) if self.ceilings else None

    def verdict(self) -> str:
        if not self.target:
            return "info"
        got = self.median_ratio() if self.target_on == "ratio" else self.median_value()
        if got is None:
            return "n/a"
        op, limit = self.target
        ok = got >= limit if op == ">=" else got <= limit
        return "PASS" if ok else "MISS"

    def as_dict(self) -> dict:
        return {"figure": self.figure, "unit": self.unit, "values": self.values,
                "ceilings": self.ceilings, "median": self.median_value(),
                "median_ceiling": self.median_ceiling(), "median_ratio": self.median_ratio(),
                "target": self.target, "target_on": self.target_on, "verdict": self.verdict(),
                "note": self.note, "table": self.table}


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and abs(v) < 100 and v != int(v):
        text = f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    else:
        text = f"{v:,.0f}"
    return f"{text} {unit}".strip()


def print_table(title: str, rows: list[Row], runs: int) -> None:
    head = ["figure", "median", "ceiling", "ratio", "target", "verdict"]
    lines = []
    for r in rows:
        target = "-"
        if r.target:
            target = f"{r.target[0]} {fmt(r.target[1], '' if r.target_on == 'ratio' else r.unit)}"
            if r.target_on == "ratio":
                target = "ratio " + target
        ratio = r.median_ratio()
        lines.append([r.figure, fmt(r.median_value(), r.unit), fmt(r.median_ceiling(), r.unit),
                      "-" if ratio is None else f"{ratio:.3f}", target, r.verdict()])
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    print(f"\n== {title} (median of {runs} run{'s' if runs != 1 else ''}) ==")
    for row in [head] + lines:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    notes = [f"  - {r.figure}: {r.note}" for r in rows if r.note]
    if notes:
        print("\n".join(notes))
    sys.stdout.flush()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

#!/usr/bin/env python3
"""Where the CPU goes in the intake benchmark, process by process (issue 15).

    python3 tests/bench/intake_share.py [--build DIR] [--runs 3] [-n 300000] [--publishers 4]
                                        [--qos 0,1]

The intake table puts ferry's rate against a bare subscriber's (ferry-sub-count) on the same
broker, at QoS 0 and at QoS 1. This runs both, as bench_intake does (fresh mosquitto per run, then the ceiling,
then ferry with its upstream down), and samples every 20 ms the CPU seconds of each process
taking part: mosquitto, the publishers (ferry-pub), and the subscriber (ferry-sub-count or
ferry), with the machine's busy time from /proc/stat. Per phase it prints each one's CPU
seconds per million messages, its wake-ups per message (voluntary context switches of all its
threads), and how many of the machine's cores were busy while messages flowed (the phase's CPU
over its flow time: first to last message counted).

When the busy cores equal the machine's, the run is CPU-bound: the rate is then the cores over
the sum of every process's CPU per message, and a subscriber that needs more CPU per message
lowers the rate of the whole run, itself included. A process exiting between two samples loses
at most 20 ms of its CPU from the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
KINDS = (("mosquitto", "broker"), ("ferry-pub", "publishers"), ("ferry-sub-count", "subscriber"),
         ("ferry run", "subscriber"))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", type=Path, default=HERE.parents[1] / "build")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("-n", type=int, default=300_000)
    p.add_argument("--publishers", type=int, default=4)
    p.add_argument("--qos", default="0,1")
    return p.parse_args()


def machine_busy_s() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


class Sampler(threading.Thread):
    """Latest cumulative CPU seconds of every process of the session, by pid."""

    def __init__(self, markers: tuple[str, ...]):
        super().__init__(daemon=True)
        self.markers, self.cpu, self.kind, self.stop = markers, {}, {}, False
        self.waits: dict[str, int] = {}

    def run(self) -> None:
        while not self.stop:
            for p in Path("/proc").iterdir():
                if p.name.isdigit():
                    self.sample(p)
            time.sleep(0.02)

    def sample(self, p: Path) -> None:
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not any(m in cmd for m in self.markers):
                return
            kind = next((k for pat, k in KINDS if pat in cmd), None)
            if kind is None:
                return
            text = (p / "stat").read_text()
            fields = text[text.rindex(")") + 2:].split()
            self.cpu[p.name] = (int(fields[11]) + int(fields[12])) / CLK_TCK
            self.kind[p.name] = kind
            # A count is cumulative: one read as the process exits (its threads gone) must not
            # replace the last good one.
            waits = voluntary_switches(p)
            if waits >= self.waits.get(p.name, 0):
                self.waits[p.name] = waits
        except (OSError, ValueError):
            pass

    def by_kind(self, table: dict | None = None) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, s in dict(self.cpu if table is None else table).items():
            out[self.kind[pid]] = out.get(self.kind[pid], 0.0) + s
        return out


def voluntary_switches(p: Path) -> int:
    """The process's voluntary context switches, its threads' summed: each is a time a thread
    blocked (in poll, a futex, a sleep or the disk) and was woken again."""
    total = 0
    for t in (p / "task").iterdir():
        try:
            for line in (t / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
        except OSError:
            pass  # the thread ended
    return total


def phase(sampler: Sampler, fn) -> tuple[dict, float, float, dict]:
    """Runs fn(); returns (CPU seconds by kind, machine busy seconds, wall seconds, fn's result)."""
    time.sleep(0.1)
    before, busy0, t0 = sampler.by_kind(), machine_busy_s(), time.monotonic()
    waits0 = sampler.by_kind(sampler.waits)
    got = fn()
    time.sleep(0.1)
    after, busy1, t1 = sampler.by_kind(), machine_busy_s(), time.monotonic()
    waits1 = sampler.by_kind(sampler.waits)
    cpu = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    cpu.update({"wakeups " + k: waits1.get(k, 0) - waits0.get(k, 0) for k in waits1})
    return cpu, busy1 - busy0, t1 - t0, got


def main() -> int:
    a = parse_args()
    os.environ["FERRY_BIN_DIR"] = str(a.build.resolve())
    sys.path.insert(0, str(HERE))
    import bench_intake
    import benchlib as bl

    session = bl.harness.Session("bench-intake-share")
    # The session's processes (mosquitto, ferry: their files are in it) and the tools, which
    # take no path in it.
    sampler = Sampler((str(session.dir), str(bl.harness.tool("ferry-pub")),
                       str(bl.harness.tool("ferry-sub-count"))))
    sampler.start()
    rows = []
    ok = False
    try:
        for r, qos in ((r, int(q)) for r in range(a.runs) for q in a.qos.split(",")):
            broker = bl.BenchBroker(session, name=f"broker-{r}-q{qos}")
            time.sleep(0.5)  # the broker is seen by the sampler before the phase starts
            for name, fn in (
                    ("bare subscriber", lambda: bl.run_sub_count(session, broker, a.n, qos,
                                                                 a.publishers)),
                    ("ferry", lambda: bench_intake.measure_ferry(
                        session, broker, None, f"ferry-{r}-q{qos}", a.n, a.publishers, qos,
                        end_to_end=False))):
                cpu, busy, wall, got = phase(sampler, fn)
                flow = got.get("flow_s") or (got["count"] / got["rate"] if got["rate"] else wall)
                rows.append({"run": r + 1, "qos": qos, "who": name, "rate": got["rate"],
                             "count": got["count"], "flow_s": flow, "busy_s": busy, **cpu})
                per_msg = {k: v / max(got["count"], 1) for k, v in cpu.items()}
                bl.log(f"run {r + 1} QoS {qos} {name}: {got['rate']:,.0f} msg/s; CPU s per million: "
                       + ", ".join(f"{k} {v * 1e6:.2f}" for k, v in sorted(per_msg.items())
                                   if not k.startswith("wakeups "))
                       + "; wake-ups per message: "
                       + ", ".join(f"{k[8:]} {v:.3f}" for k, v in sorted(per_msg.items())
                                   if k.startswith("wakeups "))
                       + f"; machine busy {busy:.1f} s over a {flow:.1f} s flow")
            broker.stop()
        ok = True
    finally:
        sampler.stop = True
        session.close(ok)
    report(rows, a)
    return 0


def report(rows: list[dict], a: argparse.Namespace) -> None:
    print(f"\nn={a.n:,}, {a.publishers} publishers, {os.cpu_count()} CPUs, medians of "
          f"{a.runs} runs")
    print("| QoS | subscriber | msg/s | broker | publishers | subscriber | all | cores busy in "
          "the flow | wake-ups per message: broker | subscriber |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for qos, name in ((int(q), n) for q in a.qos.split(",") for n in ("bare subscriber", "ferry")):
        mine = [r for r in rows if r["who"] == name and r["qos"] == qos]

        def med(f):
            return statistics.median(f(r) for r in mine)

        def per_m(kind):
            return med(lambda r: r.get(kind, 0.0) / max(r["count"], 1) * 1e6)

        kinds = ("broker", "publishers", "subscriber")
        total = med(lambda r: sum(r.get(k, 0.0) for k in kinds) / max(r["count"], 1) * 1e6)
        print(f"| {qos} | {name} | {med(lambda r: r['rate']):,.0f} | "
              + " | ".join(f"{per_m(k):.2f}" for k in kinds)
              + f" | {total:.2f} | {med(lambda r: min(r['busy_s'] / r['flow_s'], 99)):.2f} | "
              + " | ".join(f"{med(lambda r: r.get('wakeups ' + k, 0) / max(r['count'], 1)):.3f}"
                           for k in ("broker", "subscriber")) + " |")
    print("(CPU seconds per million messages; 'cores busy': the machine's busy CPU seconds over "
          "the phase, divided by the seconds messages flowed; wake-ups: voluntary context "
          "switches of the process's threads, summed)")


if __name__ == "__main__":
    sys.exit(main())

"""Transforms: records per second and added agent CPU per record through a trivial transform in
Python, Lua (lua5.4) and C, against the same route without a transform, in one agent run.

  FERRY_BIN_DIR=<build dir> [N=20000] [ROUNDS=3] [SANDBOX=none|bubblewrap] \
      python3 tests/bench/bench_transform.py

One ferry, four routes: plain/{device} (rules only), py/, lua/, c/{device} (the same rules, then
the transform: config/examples/transforms/passthrough.py, passthrough.lua and the compiled
passthrough.cc, which parse each request and return the rules' records). Each round publishes N QoS 1 messages to each route in turn (ferry-pub, as fast
as the broker takes them) and reads the agent's user+system CPU from /proc before and after
each route's records landed. Prints per route the median over ROUNDS of records/s (publish
start to last record landed) and agent CPU µs per record, and the added CPU per record against
plain. SANDBOX=bubblewrap needs the examples readable by nobody when run as root.
"""
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

N = int(os.environ.get("N", "20000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SANDBOX = os.environ.get("SANDBOX", "bubblewrap")

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples" / "transforms"


def agent_cpu(pid: int) -> float:
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def transforms(s) -> dict:
    """The examples' pass-through transforms (JSON in, the rules' records back)."""
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"
    out = {"py": [python, str(EXAMPLES / "passthrough.py")],
           "c": [str(harness.tool("transform-passthrough"))]}
    if shutil.which("lua5.4"):
        out["lua"] = ["lua5.4", str(EXAMPLES / "passthrough.lua")]
    return out


def test(s):
    os.chmod(s.dir, 0o755)  # as root the sandbox runs as nobody, who must reach its directory
    commands = transforms(s)
    routes = ["plain"] + list(commands)
    broker = s.broker()
    landing = s.landing()
    config = {
        harness.ROUTES_KEY: [{"topic": f"{r}/{{device}}", **({"transform": r} if r in commands
                                                              else {})} for r in routes],
        "transforms": {name: {"command": cmd, "sandbox": SANDBOX}
                       for name, cmd in commands.items()},
    }
    ferry = s.ferry(broker, landing, subscriptions=["#"], overrides=config)
    figures = {r: {"rate": [], "cpu_us": []} for r in routes}
    landed = 0
    for rnd in range(ROUNDS):
        for r in routes:
            cpu0, t0 = agent_cpu(ferry.proc.pid), time.time()
            harness.publish(broker, f"{r}/dev{{p}}", count=N, qos=1, timeout=600,
                            payload='{"pub":{p},"seq":{i},"temperature":21.5,"humidity":40}')
            landed += N
            ferry.wait_metric("ferry_records_delivered_total", lambda v: v >= landed, 600,
                              f"{landed} delivered")
            elapsed, cpu = time.time() - t0, agent_cpu(ferry.proc.pid) - cpu0
            assert ferry.metric("ferry_records_dead_lettered_total") == 0, "a transform failed"
            figures[r]["rate"].append(N / elapsed)
            figures[r]["cpu_us"].append(cpu / N * 1e6)
            print(f"round {rnd + 1} {r:5s}: {N / elapsed:8.0f} rec/s, agent CPU "
                  f"{cpu / N * 1e6:6.2f} µs/record", flush=True)
    assert ferry.metric("ferry_records_dead_lettered_total") == 0, "a transform failed"
    base = statistics.median(figures["plain"]["cpu_us"])
    print(f"\nmedians of {ROUNDS} rounds, N={N} per route and round, sandbox {SANDBOX}:")
    print("| route | records/s | agent CPU µs/record | added µs/record |")
    print("|---|---|---|---|")
    for r in routes:
        cpu = statistics.median(figures[r]["cpu_us"])
        print(f"| {r} | {statistics.median(figures[r]['rate']):.0f} | {cpu:.2f} | "
              f"{cpu - base:+.2f} |")


if __name__ == "__main__":
    harness.main(test)

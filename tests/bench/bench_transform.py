"""Transforms: records per second and added agent CPU per record through a trivial transform in
Python, Lua (lua5.4) and C, against the same route without a transform, in one agent run.

  FERRY_BIN_DIR=<build dir> [N=20000] [ROUNDS=3] [SANDBOX=none|bubblewrap] \
      python3 tests/bench/bench_transform.py

One ferry, four routes: plain/{device} (rules only), py/, lua/, c/{device} (the same rules, then
the transform). Each round publishes N QoS 1 messages to each route in turn (ferry-pub, as fast
as the broker takes them) and reads the agent's user+system CPU from /proc before and after
each route's records landed. Prints per route the median over ROUNDS of records/s (publish
start to last record landed) and agent CPU µs per record, and the added CPU per record against
plain. The trivial transforms answer each request with the rules' records unchanged, found as
the request's last member, without a JSON parser (what is timed is Ferry's side, not a JSON
library's); the examples in config/examples/transforms/ are the readable versions.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

N = int(os.environ.get("N", "20000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SANDBOX = os.environ.get("SANDBOX", "none")

PY = r'''import sys
out = sys.stdout
for line in sys.stdin:
    i = line.index(',')
    r = line.index('"records":')
    out.write(line[:i] + ',' + line[r:])
    out.flush()
'''
LUA = r'''io.stdout:setvbuf("no")
for line in io.lines() do
  local i = line:find(",", 1, true)
  local r = line:find('"records":', 1, true)
  io.write(line:sub(1, i), line:sub(r), "\n")
end
'''
C = r'''#include <stdio.h>
#include <string.h>
int main(void) {
  static char line[1 << 20];
  while (fgets(line, sizeof line, stdin)) {
    char *comma = strchr(line, ','), *rec = strstr(line, "\"records\":");
    if (!comma || !rec) return 1;
    fwrite(line, 1, comma - line + 1, stdout);
    fputs(rec, stdout);
    fflush(stdout);
  }
  return 0;
}
'''


def agent_cpu(pid: int) -> float:
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def transforms(s) -> dict:
    d = s.path("udf")
    d.mkdir(exist_ok=True)
    (d / "t.py").write_text(PY)
    (d / "t.lua").write_text(LUA)
    (d / "t.c").write_text(C)
    subprocess.run(["cc", "-O2", "-o", str(d / "t"), str(d / "t.c")], check=True)
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"
    out = {"py": [python, str(d / "t.py")], "c": [str(d / "t")]}
    if shutil.which("lua5.4"):
        out["lua"] = ["lua5.4", str(d / "t.lua")]
    return out


def test(s):
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
            figures[r]["rate"].append(N / elapsed)
            figures[r]["cpu_us"].append(cpu / N * 1e6)
            print(f"round {rnd + 1} {r:5s}: {N / elapsed:8.0f} rec/s, agent CPU "
                  f"{cpu / N * 1e6:6.2f} µs/record", flush=True)
    assert ferry.metric("ferry_records_dead_lettered_total") == 0
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

"""Agent CPU per million records for one ferry build, end to end (the A/B in the issue-15 note).

  FERRY_BIN_DIR=<build dir> [N=200000] [QOS=1] python3 tests/bench/cpu_ab.py

Publishes N messages from 2 publishers at QOS to a fresh mosquitto, with ferry subscribed to
`#` at QoS 1 (the default config) and ferry-landing up; waits until all landed and prints the
agent's user+system CPU from /proc. Run it for two builds, interleaved, and compare medians.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

N = int(os.environ.get("N", "200000"))
QOS = int(os.environ.get("QOS", "1"))


def test(s):
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["#"])
    t = time.time()
    harness.start_publish(s, broker, "sc/dev{p}", count=N // 2, qos=QOS, publishers=2,
                          payload='{"pub":{p},"seq":{i},"temperature":21.5}').wait(600)
    landing.wait_records(N, timeout=600, ferry=ferry, settle=0.5)
    elapsed = time.time() - t
    f = open(f"/proc/{ferry.proc.pid}/stat").read().split(")")[1].split()
    cpu = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    print(f"RESULT qos{QOS} cpu {cpu:.2f} s = {cpu / N * 1e6:.2f} s per million, "
          f"{N / elapsed:.0f} rec/s end to end")


if __name__ == "__main__":
    harness.main(test)

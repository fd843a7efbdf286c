"""Wire and flash (item 4) on the real device corpus (../shared/data/devices/*.ndjson except
nasty.ndjson, whose hostile inputs are dead letters, not traffic), replayed with
ferry-pub --replay --loop at QoS 1 into ferry with the demo's routes and ferry-landing up.

  wire   ferry_upstream_bytes_sent_total per delivered record (request bodies, zstd level 3)
         against gzip (python's gzip, level 6) of the same NDJSON batches the landing stored
  flash  /proc/PID/io write_bytes of ferry per stored record (WAL, checkpoints, deletes after
         delivery included) against the record's own size (its NDJSON line), at full speed and
         at a slow, gateway-like rate where every group commit holds few records
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time

import benchlib as bl

# The routes of the demo's config: every device family of the corpus.
sys.path.insert(0, str(bl.SOURCE_DIR / "tests" / "demo"))
from demo import DEMO_CONFIG  # noqa: E402

ROUTES = DEMO_CONFIG["routes"]


def corpus(session):
    path = session.path("corpus.ndjson")
    if not path.exists():
        lines = []
        for f in sorted(bl.DEVICES_DIR.glob("*.ndjson")):
            if f.name == "nasty.ndjson":
                continue
            lines += [ln for ln in f.read_text().splitlines()
                      if ln.strip() and "payload" in json.loads(ln)]
        assert lines, f"no device messages in {bl.DEVICES_DIR} (set FERRY_DEVICES_DIR)"
        path.write_text("\n".join(lines) + "\n")
    return path


def landing_ndjson(landing) -> tuple[int, int, int, int]:
    """(records, NDJSON bytes, stored zstd bytes, gzip -6 bytes) over the landing's files."""
    records = raw = zst = gz = 0
    for path in landing.files():
        data = subprocess.run([bl.harness.ZSTD_BIN, "-dc", "--", str(path)], check=True,
                              capture_output=True).stdout
        records += data.count(b"\n")
        raw += len(data)
        zst += path.stat().st_size
        gz += len(gzip.compress(data, compresslevel=6))
    return records, raw, zst, gz


def single_pass(landing, lines: int) -> tuple[int, int, int]:
    """(NDJSON, zstd -3, gzip -6) bytes of the first `lines` records the landing stored: one pass
    of the corpus, so the looped repetition does not flatter either compressor."""
    data = b""
    for path in landing.files():
        data += subprocess.run([bl.harness.ZSTD_BIN, "-dc", "--", str(path)], check=True,
                               capture_output=True).stdout
        if data.count(b"\n") >= lines:
            break
    data = b"".join(ln + b"\n" for ln in data.split(b"\n")[:lines])
    zst = subprocess.run([bl.harness.ZSTD_BIN, "-3", "-c", "-q", "--no-check"], input=data,
                         check=True, capture_output=True).stdout
    return len(data), len(zst), len(gzip.compress(data, compresslevel=6))


def replay_run(session, broker, landing, name: str, count: int, rate: float,
               publishers: int, overrides: dict | None = None) -> dict:
    ferry = bl.bench_ferry(session, broker, landing, name, qos=1, topics=("#",), routes=ROUTES,
                           overrides=overrides)
    ps = bl.proc_stat(ferry)
    wr0 = ps.write_bytes()
    pub = bl.start_pub(session, bl.pub_argv(broker, count, publishers, 1, replay=corpus(session),
                                            rate=rate, loop=True))
    bl.time_counter(bl.metric_reader(ferry, "ferry_records_received_total"), count,
                    lambda: not pub.running(), timeout=1800)
    pub.wait(600, check=False)
    m = ferry.metrics()
    stored = m.sum("ferry_records_stored_total")
    assert stored > 0, f"ferry stored none of the {count} replayed messages: {m.text[:2000]}"
    bl.harness.wait_for(lambda: ferry.metric("ferry_records_delivered_total") >= stored, 300,
                        "every stored record delivered")
    time.sleep(1.5)  # the delete after the last delivery is written too
    m = ferry.metrics()
    out = {"stored": stored, "delivered": m.sum("ferry_records_delivered_total"),
           "bytes_sent": m.sum("ferry_upstream_bytes_sent_total"),
           "written": ps.write_bytes() - wr0}
    ferry.stop(30)
    bl.remove_queue(ferry)
    return out


def run(session, n: int, publishers: int, runs: int, slow_seconds: float = 20,
        slow_rate: float = 50) -> list[bl.Row]:
    rows = {
        "wire": bl.Row("wire bytes per record, zstd -3 bodies (ceiling: gzip -6 of same NDJSON)",
                       "B", note="ratio < 1 means zstd bodies are smaller than gzip"),
        "wire_once": bl.Row("wire bytes per record, one pass of the corpus: zstd -3 "
                            "(ceiling: gzip -6)", "B",
                            note="the corpus compressed once, no looped repetition"),
        "wire_raw": bl.Row("wire bytes per record (ceiling: NDJSON line)", "B"),
        "flash": bl.Row("disk bytes written per record, full speed (ceiling: NDJSON line)", "B",
                        target=("<=", 1.0), target_on="ratio"),
        "flash_slow": bl.Row(f"disk bytes written per record at {slow_rate:g} msg/s "
                             "(ceiling: NDJSON line)", "B", target=("<=", 1.0), target_on="ratio"),
    }
    for r in range(runs):
        bl.log(f"wire run {r + 1}/{runs}: replaying the device corpus, {n:,} messages")
        broker = bl.BenchBroker(session, name=f"broker-w{r}")
        landing = session.landing(name=f"landing-w{r}")
        fast = replay_run(session, broker, landing, f"ferry-w{r}", n, 0, publishers)
        records, raw, zst, gz = landing_ndjson(landing)
        line = raw / max(records, 1)
        rows["wire"].values.append(fast["bytes_sent"] / max(fast["delivered"], 1))
        rows["wire"].ceilings.append(gz / max(records, 1))
        rows["wire_raw"].values.append(fast["bytes_sent"] / max(fast["delivered"], 1))
        rows["wire_raw"].ceilings.append(line)
        once = len(corpus(session).read_text().splitlines())
        o_raw, o_zst, o_gz = single_pass(landing, once)
        rows["wire_once"].values.append(o_zst / once)
        rows["wire_once"].ceilings.append(o_gz / once)
        rows["flash"].values.append(fast["written"] / max(fast["stored"], 1))
        rows["flash"].ceilings.append(line)
        bl.log(f"  {records} records at the landing, line {line:.0f} B, sent "
               f"{fast['bytes_sent'] / max(fast['delivered'], 1):.1f} B/rec, gzip "
               f"{gz / max(records, 1):.1f} B/rec, written {fast['written'] / max(fast['stored'], 1):.1f} B/rec")
        landing.stop()
        slow_landing = session.landing(name=f"landing-w{r}-slow")
        slow = replay_run(session, broker, slow_landing, f"ferry-w{r}-slow",
                          int(slow_rate * slow_seconds), slow_rate, 1)
        s_records, s_raw, _, _ = landing_ndjson(slow_landing)
        rows["flash_slow"].values.append(slow["written"] / max(slow["stored"], 1))
        rows["flash_slow"].ceilings.append(s_raw / max(s_records, 1))
        bl.log(f"  slow: written {slow['written'] / max(slow['stored'], 1):.0f} B/rec")
        slow_landing.stop()
        broker.stop()
    return list(rows.values())

"""Wire and flash (item 4) on the real device corpus (../shared/data/devices/*.ndjson except
nasty.ndjson, whose hostile inputs are dead letters, not traffic), replayed with
ferry-pub --replay at QoS 1 into ferry with the demo's routes and ferry-landing up.

  wire       ferry_upstream_bytes_sent_total per delivered record (request bodies, zstd level 3)
             against gzip (python's gzip, level 6) of the same NDJSON batches the landing stored,
             the corpus looped (n messages)
  wire once  the same for ONE pass of the corpus (each message once, no loop) into a fresh ferry:
             Ferry's own bytes on the wire when nothing repeats
  flash      /proc/PID/io write_bytes of ferry per stored record (WAL, checkpoints, deletes after
             delivery included) against the record's own size (its NDJSON line), at full speed;
             flash wear at a gateway's rates is bench_flash.py
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


def replay_run(session, broker, landing, name: str, count: int, rate: float,
               publishers: int, overrides: dict | None = None, loop: bool = True) -> dict:
    ferry = bl.bench_ferry(session, broker, landing, name, qos=1, topics=("#",), routes=ROUTES,
                           overrides=overrides)
    ps = bl.proc_stat(ferry)
    wr0 = ps.write_bytes()
    pub = bl.start_pub(session, bl.pub_argv(broker, count, publishers, 1, replay=corpus(session),
                                            rate=rate, loop=loop))
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


def run(session, n: int, publishers: int, runs: int) -> list[bl.Row]:
    rows = {
        "wire": bl.Row("wire bytes per record, zstd -3 bodies (ceiling: gzip -6 of same NDJSON)",
                       "B", note="ratio < 1 means zstd bodies are smaller than gzip"),
        "wire_once": bl.Row("wire bytes per record, one pass of the corpus: Ferry's request "
                            "bodies (ceiling: gzip -6 of the same NDJSON)", "B",
                            note="each corpus message once, no looped repetition"),
        "wire_raw": bl.Row("wire bytes per record (ceiling: NDJSON line)", "B"),
        "flash": bl.Row("disk bytes written per record, full speed (ceiling: NDJSON line)", "B",
                        target=("<=", 1.0), target_on="ratio"),
    }
    once = len(corpus(session).read_text().splitlines())
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
        rows["flash"].values.append(fast["written"] / max(fast["stored"], 1))
        rows["flash"].ceilings.append(line)
        bl.log(f"  {records} records at the landing, line {line:.0f} B, sent "
               f"{fast['bytes_sent'] / max(fast['delivered'], 1):.1f} B/rec, gzip "
               f"{gz / max(records, 1):.1f} B/rec, written {fast['written'] / max(fast['stored'], 1):.1f} B/rec")
        landing.stop()
        once_landing = session.landing(name=f"landing-w{r}-once")
        one = replay_run(session, broker, once_landing, f"ferry-w{r}-once", once, 0, 1, loop=False)
        o_records, _, _, o_gz = landing_ndjson(once_landing)
        rows["wire_once"].values.append(one["bytes_sent"] / max(one["delivered"], 1))
        rows["wire_once"].ceilings.append(o_gz / max(o_records, 1))
        bl.log(f"  one pass: {o_records} records, sent {one['bytes_sent']:.0f} B, gzip {o_gz} B")
        once_landing.stop()
        broker.stop()
    return list(rows.values())

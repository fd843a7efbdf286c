"""The three example transforms (config/examples/transforms/: Python, Lua, C++) on real device
messages through the real agent to ferry-landing, in one agent, under bubblewrap where the host
allows it: TTN v3 uplinks through dragino_lht52.py, Tasmota SENSOR messages through
tasmota_dewpoint.lua, OwnTracks messages through the compiled owntracks_geohash. The landed
records carry what each example adds and the transform's name and pin; nothing fails."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import harness
import transforms_common as tc

DEVICES = harness.DEVICES_DIR
EXAMPLES = harness.SOURCE_DIR / "config" / "examples" / "transforms"


def messages(family: str) -> list[tuple[str, str]]:
    out = []
    for line in (DEVICES / f"{family}.ndjson").read_text().splitlines():
        m = json.loads(line)
        if "payload" in m:
            out.append((m["topic"], m["payload"]))
    return out


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test(s: harness.Session) -> None:
    if shutil.which("lua5.4") is None:
        raise AssertionError("lua5.4 is not installed (toolchains/install-deps.sh installs it)")
    # Copies in the session's directory: as root the sandbox runs as nobody, who may not reach
    # the source tree or the build directory (a clone under /root).
    udf = s.path("udf")
    udf.mkdir()
    files = {"lht52": udf / "dragino_lht52.py", "dewpoint": udf / "tasmota_dewpoint.lua",
             "geohash": udf / "owntracks-geohash"}
    shutil.copy(EXAMPLES / "dragino_lht52.py", files["lht52"])
    shutil.copy(EXAMPLES / "tasmota_dewpoint.lua", files["dewpoint"])
    shutil.copy(harness.tool("transform-owntracks-geohash"), files["geohash"])
    geohash = files["geohash"]
    sandbox = "bubblewrap" if tc.sandbox_available(s, files["lht52"]) else "none"
    transforms = {
        "lht52": tc.transform([tc.PYTHON, files["lht52"]], sandbox, sha256=sha(files["lht52"])),
        "dewpoint": tc.transform(["lua5.4", files["dewpoint"]], sandbox,
                                 sha256=sha(files["dewpoint"])),
        "geohash": tc.transform([geohash], sandbox, sha256=sha(geohash)),
    }
    routes = [
        {"topic": "v3/+/devices/{device}/up", "payload_shape": "object", "transform": "lht52"},
        {"topic": "tele/{device}/SENSOR", "payload_shape": "object", "transform": "dewpoint"},
        {"topic": "owntracks/#", "payload_shape": "object", "transform": "geohash"},
    ]
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["v3/#", "tele/#", "owntracks/#"],
                    overrides={harness.ROUTES_KEY: routes, "transforms": transforms})
    batch = [(t, p) for t, p in messages("ttn_v3") + messages("tasmota") + messages("owntracks")
             if p.lstrip().startswith("{") and t.split("/")[0] in ("v3", "tele", "owntracks")]
    replay = harness.write_replay(s.path("messages.ndjson"), batch)
    res = harness.publish(broker, replay=replay, qos=1)
    print(f"ferry-pub: {res}")
    ferry.wait_metric("ferry_records_received_total", lambda v: v >= len(batch), 30, "received")
    dead = ferry.metric("ferry_records_dead_lettered_total")
    records = landing.wait_records(1, timeout=30, settle=3)
    print(f"{len(batch)} messages: {len(records)} records landed, {dead:.0f} dead-lettered")

    by = {name: [r for r in records if r.get("transform", {}).get("name") == name]
          for name in transforms}
    for name, rs in by.items():
        assert rs, f"no record from {name}"
        assert all(r["transform"]["sha256"] == sha(files[name]) for r in rs), rs[0]
    lht52 = [r for r in by["lht52"] if "temperature_c" in r["data"]]
    dew = [r for r in by["dewpoint"] if any(k.endswith("_DewPoint") for k in r["data"])]
    located = [r for r in by["geohash"] if "geohash" in r["data"]]
    print(f"lht52 decoded {len(lht52)}, dew points {len(dew)}, geohashes {len(located)}")
    assert len(lht52) == 2 and dew and located, (lht52, dew, located)
    routed = [r for r in records if r["topic"].startswith("owntracks/")
              or (r["topic"].startswith("v3/") and r["topic"].endswith("/up"))
              or (r["topic"].startswith("tele/") and r["topic"].endswith("/SENSOR"))]
    assert all("transform" in r for r in routed), [r for r in routed if "transform" not in r][:2]

    status = ferry.status()["transforms"]
    for name in transforms:
        t = status[name]
        print(f"{name}: {t['state']}, isolation {t['isolation']!r}, requests {t['requests']}, "
              f"errors {t['errors']}, failures {t['failures']}, "
              f"latency mean {t['latency_mean_seconds'] * 1000:.1f} ms")
        assert t["failures"] == 0 and t["kills"] == 0 and t["state"] == "running", t
        assert t["isolation"].startswith("bubblewrap" if sandbox == "bubblewrap" else "none")
    listing = ferry.run_cli("transforms", "--url", ferry.base_url)
    print(listing.stdout)
    assert listing.returncode == 0 and "lht52  running" in listing.stdout, listing


if __name__ == "__main__":
    harness.main(test)

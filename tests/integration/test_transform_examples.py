"""The example transforms (config/examples/transforms/) on the real device messages, over the
transform protocol exactly as docs/transforms.md gives it: every message of a family as one
batch of request lines on the program's stdin, replies read from its stdout and matched by id.
Each example is checked against what the device itself reports (the LHT52's vendor decoding,
the dew point a DHT11 sends, a reference geohash), and each pass-through variant against its
input. Needs python3, lua5.4 with lua-cjson, and the compiled examples (built with the tests)."""

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import harness

DEVICES = harness.DEVICES_DIR
EXAMPLES = harness.SOURCE_DIR / "config" / "examples" / "transforms"
RECEIVED = "2026-12-06T18:00:00.123Z"


def messages(family: str) -> list[tuple[str, str]]:
    out = []
    for line in (DEVICES / f"{family}.ndjson").read_text().splitlines():
        m = json.loads(line)
        if "payload" in m:
            out.append((m["topic"], m["payload"]))
    assert out, f"no messages in {family}"
    return out


def rules_record(topic: str) -> dict:
    """Stands in for what a route's rules made: the transform gets it in "records"."""
    return {"device": topic.split("/")[1] if "/" in topic else topic, "ts": RECEIVED,
            "ts_source": "received", "labels": {"route": "test"}, "data": {"raw": True}}


def run(command: list, batch: list[tuple[str, str]]) -> dict[int, dict]:
    """Sends `batch` as requests (ids from 100), returns the replies by id."""
    requests = []
    for i, (topic, payload) in enumerate(batch):
        requests.append(json.dumps({"id": 100 + i, "topic": topic, "payload": payload,
                                    "received_at": RECEIVED, "records": [rules_record(topic)]}))
    run = subprocess.run(command, input="\n".join(requests) + "\n", capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 0, f"{command}: exit {run.returncode}: {run.stderr}"
    replies = {}
    for line in run.stdout.splitlines():
        reply = json.loads(line)
        assert isinstance(reply, dict) and isinstance(reply.get("id"), int), line
        assert ("records" in reply) != ("error" in reply), line
        if "records" in reply:
            assert isinstance(reply["records"], list), line
            for r in reply["records"]:
                assert isinstance(r.get("data"), dict), line
        replies[reply["id"]] = reply
    assert sorted(replies) == [100 + i for i in range(len(batch))], \
        f"{command}: replies for {sorted(replies)}, asked {len(batch)}"
    return replies


def check_passthrough(command: list) -> None:
    batch = messages("zigbee2mqtt") + messages("tasmota")
    replies = run(command, batch)
    for i, (topic, _) in enumerate(batch):
        assert replies[100 + i]["records"] == [rules_record(topic)], (command, replies[100 + i])
    print(f"{command[-1]}: {len(batch)} messages passed through unchanged")


def check_python() -> None:
    batch = messages("ttn_v3")
    replies = run(["python3", str(EXAMPLES / "dragino_lht52.py")], batch)
    decoded = 0
    for i, (topic, payload) in enumerate(batch):
        up = json.loads(payload).get("uplink_message", {})
        reply = replies[100 + i]
        if up.get("version_ids", {}).get("model_id") != "lht52":
            assert reply["records"] == [rules_record(topic)], reply
            continue
        vendor = up["decoded_payload"]  # what the vendor's JavaScript decoder made of it
        [record] = reply["records"]
        assert record["data"]["temperature_c"] == vendor["TempC_SHT"], (record, vendor)
        assert record["data"]["humidity_pct"] == vendor["Hum_SHT"], (record, vendor)
        assert vendor["TempC_DS"] == 327.67 and "probe_temperature_c" not in record["data"], record
        want = datetime.datetime.fromtimestamp(vendor["Systimestamp"], datetime.timezone.utc)
        assert record["ts"] == want.strftime("%Y-%m-%dT%H:%M:%SZ"), (record, vendor)
        assert record["device"] == json.loads(payload)["end_device_ids"]["device_id"], record
        decoded += 1
    assert decoded == 2, f"{decoded} LHT52 uplinks decoded, the corpus has 2"
    bad = run(["python3", str(EXAMPLES / "dragino_lht52.py")],
              [(batch[0][0].replace("dev1", "x"), payload_with_frame(batch, "AAAA"))])
    assert "error" in bad[100] and "11 bytes" in bad[100]["error"], bad
    print(f"dragino_lht52.py: {decoded} LHT52 frames decoded as the vendor does, "
          f"{len(batch) - decoded} other messages passed through, a short frame answered an error")


def payload_with_frame(batch: list, frame: str) -> str:
    for topic, payload in batch:
        m = json.loads(payload)
        if m.get("uplink_message", {}).get("version_ids", {}).get("model_id") == "lht52":
            m["uplink_message"]["frm_payload"] = frame
            return json.dumps(m)
    raise AssertionError("no LHT52 uplink")


def check_lua() -> None:
    batch = messages("tasmota")
    # The DHT11 reports its own dew point: take it out, and the transform must compute the same.
    reported = {}
    for i, (topic, payload) in enumerate(batch):
        if topic.endswith("SENSOR") and '"DewPoint"' in payload:
            m = json.loads(payload)
            for sensor, values in m.items():
                if isinstance(values, dict) and "DewPoint" in values:
                    reported[(i, sensor)] = values.pop("DewPoint")
            batch[i] = (topic, json.dumps(m))
    assert reported, "no Tasmota message with a DewPoint"
    replies = run(["lua5.4", str(EXAMPLES / "tasmota_dewpoint.lua")], batch)
    computed = 0
    for i, (topic, payload) in enumerate(batch):
        reply = replies[100 + i]
        sensor_topic = topic.endswith("/SENSOR") and "tele" in topic.split("/")
        if not sensor_topic:
            assert reply.get("records") == [rules_record(topic)], reply
            continue
        if "error" in reply:  # a SENSOR message that is no JSON object
            assert not payload.lstrip().startswith("{"), reply
            continue
        [record] = reply["records"]
        m = json.loads(payload)
        for sensor, values in m.items():
            if isinstance(values, dict) and "Temperature" in values and "Humidity" in values:
                if values["Temperature"] is None or values["Humidity"] is None:
                    assert f"{sensor}_DewPoint" not in record["data"], record  # never from null
                    continue
                assert f"{sensor}_DewPoint" in record["data"], (sensor, record)
                computed += 1
                if (i, sensor) in reported:
                    assert record["data"][f"{sensor}_DewPoint"] == reported[(i, sensor)], record
    assert computed >= len(reported), computed
    print(f"tasmota_dewpoint.lua: {computed} dew points computed, {len(reported)} equal to the "
          f"device's own")


def geohash(lat: float, lon: float, precision: int) -> str:
    """Reference geohash (the textbook algorithm), to check the C++ one."""
    base32 = "0123456789bcdefghjkmnpqrstuvwxyz"
    lat_r, lon_r, out, bits, val, even = [-90.0, 90.0], [-180.0, 180.0], "", 0, 0, True
    while len(out) < precision:
        r, v = (lon_r, lon) if even else (lat_r, lat)
        mid = (r[0] + r[1]) / 2
        val = (val << 1) | (v >= mid)
        r[0 if v >= mid else 1] = mid
        even, bits = not even, bits + 1
        if bits == 5:
            out, bits, val = out + base32[val], 0, 0
    return out


def check_cpp() -> None:
    batch = messages("owntracks")
    replies = run([str(harness.tool("transform-owntracks-geohash"))], batch)
    for i, (topic, payload) in enumerate(batch):
        m = json.loads(payload)
        [record] = replies[100 + i]["records"]
        d = record["data"]
        assert d["geohash"] == geohash(m["lat"], m["lon"], 8), (record, m)
        assert record["device"] == "/".join(topic.split("/")[1:3]), record
        assert ("battery_mv" in d) == (m.get("batt", 0) > 100), record
        assert ("vel_kmh" in d) == (m.get("vel", 999) != 999), record
        if m["_type"] == "transition":
            assert d["event"] == m["event"] and d["desc"] == m["desc"], record
    print(f"owntracks_geohash.cc: {len(batch)} OwnTracks messages with geohash, corrections, "
          f"event time")


def test(s: harness.Session) -> None:
    if shutil.which("lua5.4") is None:
        raise AssertionError("lua5.4 is not installed (toolchains/install-deps.sh installs it)")
    check_python()
    check_lua()
    check_cpp()
    check_passthrough(["python3", str(EXAMPLES / "passthrough.py")])
    check_passthrough(["lua5.4", str(EXAMPLES / "passthrough.lua")])
    check_passthrough([str(harness.tool("transform-passthrough"))])


if __name__ == "__main__":
    harness.main(test)

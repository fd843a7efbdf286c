"""A Python transform on real device messages (Tasmota) through the real agent to ferry-landing:
its records carry the transform's name and pin, the other route's records (Zigbee2MQTT) do not,
and /status shows the transform's counters."""

import json
import os
from pathlib import Path

import harness
import transforms_common as tc

DEVICES = harness.DEVICES_DIR


def device_messages(name: str, topic_prefix: str) -> list[tuple[str, str]]:
    out = []
    for line in (DEVICES / name).read_text().splitlines():
        m = json.loads(line)
        if m["topic"].startswith(topic_prefix) and "payload" in m:
            out.append((m["topic"], m["payload"]))
    return out


def test(s: harness.Session) -> None:
    script, sha = tc.write_script(s, "echo", tc.ECHO)
    sandbox = "bubblewrap" if tc.sandbox_available(s, script) else "none"
    broker = s.broker()
    landing = s.landing()
    routes = [{"topic": "tele/{device}/SENSOR", "payload_shape": "object", "transform": "echo"},
              {"topic": "zigbee2mqtt/{device}", "payload_shape": "object"}]
    ferry = s.ferry(broker, landing, subscriptions=["tele/#", "zigbee2mqtt/#"], overrides={
        harness.ROUTES_KEY: routes,
        "transforms": {"echo": tc.transform([tc.PYTHON, script], sandbox, sha256=sha)}})

    tele = [(t, p) for t, p in device_messages("tasmota.ndjson", "tele/")
            if t.endswith("/SENSOR") and p.startswith("{")]
    zigbee = [(t, p) for t, p in device_messages("zigbee2mqtt.ndjson", "zigbee2mqtt/")
              if p.startswith("{") and "/bridge/" not in t]
    assert tele and zigbee, "no device messages found"
    replay = harness.write_replay(s.path("messages.ndjson"), tele + zigbee)
    res = harness.publish(broker, replay=replay, qos=1)
    print(f"ferry-pub: {res}; {len(tele)} tasmota, {len(zigbee)} zigbee2mqtt")

    total = len(tele) + len(zigbee)
    ferry.wait_metric("ferry_records_received_total", lambda v: v >= total, 30, "all received")
    dead = ferry.metric("ferry_records_dead_lettered_total")
    records = landing.wait_records(total - int(dead), timeout=30, settle=1.5)
    made = [r for r in records if r["topic"].startswith("tele/")]
    plain = [r for r in records if r["topic"].startswith("zigbee2mqtt/")]
    print(f"landed {len(made)} transformed, {len(plain)} plain, {dead:.0f} dead-lettered")
    assert len(made) == len(tele), f"{len(made)} transformed records, {len(tele)} sent"
    for r in made:
        assert r["transform"] == {"name": "echo", "sha256": sha}, r
        assert r["data"]["via"] == "py" and r["data"]["payload_len"] > 0, r
        assert r["device"] == r["topic"].split("/")[1], r
    assert plain and all("transform" not in r for r in plain), plain[:2]

    status = ferry.status()
    t = status["transforms"]["echo"]
    print(f"/status transforms.echo: {json.dumps(t)}")
    assert t["state"] == "running" and t["requests"] == len(tele) and t["failures"] == 0, t
    assert t["sha256"] == sha and t["isolation"], t
    metrics = ferry.metrics()
    assert metrics.sum("ferry_transform_requests_total", transform="echo") == len(tele)


if __name__ == "__main__":
    harness.main(test)

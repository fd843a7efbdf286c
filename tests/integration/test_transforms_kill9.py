"""kill -9 of the agent while a transform holds messages (QoS 1): the transform answers slowly,
so a group is always waiting on it; after the restart every message the broker acknowledged
to the publisher lands exactly once, through the transform."""

import os

import harness
import transforms_common as tc

COUNT = 300
SLOW = tc.ECHO.replace("    req = json.loads(line)\n",
                                   "    req = json.loads(line)\n    import time; time.sleep(0.02)\n")


def running(script) -> bool:
    """Whether a process runs `script` (read from /proc)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if str(script).encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                return True
        except OSError:
            pass
    return False


def test(s: harness.Session) -> None:
    script, sha = tc.write_script(s, "slow", SLOW)
    sandbox = "bubblewrap" if tc.sandbox_available(s, script) else "none"
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/+"], overrides={
        harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/{device}", "transform": "slow"}],
        "transforms": {"slow": tc.transform([tc.PYTHON, script], sandbox, sha256=sha)}})
    pub = harness.start_publish(s, broker, topic="zigbee2mqtt/dev{p}", count=COUNT, qos=1,
                                rate=100)
    ferry.wait_metric("ferry_transform_requests_total", lambda v: v >= 30, 30, "30 transformed")
    held = ferry.status()["transforms"]["slow"]["requests"]
    ferry.kill()
    print(f"killed ferry -9 after {held} transform requests")
    harness.wait_for(lambda: not running(script), 5, "the transform to die with the agent")
    ferry.start()
    res = pub.wait(timeout=60)
    print(f"ferry-pub: {res}")
    records = landing.wait_records(COUNT, timeout=60, settle=2)
    assert all(r.get("transform", {}).get("name") == "slow" for r in records)
    harness.check_exactly_once(records, {(1, i) for i in range(1, COUNT + 1)})
    assert ferry.metric("ferry_records_dead_lettered_total") == 0


if __name__ == "__main__":
    harness.main(test)

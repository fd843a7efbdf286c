"""A broker that refuses the connection is logged, not only shown in /readyz and /status.

Regression test for issue 14, item 2: with nothing listening on mqtt.port, ferry said so in
/readyz and /status but never in its log. It now logs each distinct reason once (and again
every 5 minutes while it lasts), not once per reconnect attempt.
"""

import time

import harness


def test(s: harness.Session) -> None:
    landing = s.landing()
    ferry = s.ferry(None, landing, start=False,
                    overrides={"mqtt": {"reconnect_min": "100ms", "reconnect_max": "200ms"}})
    ferry.start(wait=False)
    port = ferry.config["mqtt"]["port"]
    line = harness.wait_for(
        lambda: next((l for l in ferry.log.read_text().splitlines()
                      if f"127.0.0.1:{port}" in l and "refused" in l.lower()), None),
        15, "a log line saying the broker refused the connection", interval=0.2)
    print(f"logged: {line}")
    assert " warn " in line, line
    time.sleep(2)  # about ten more attempts
    lines = [l for l in ferry.log.read_text().splitlines() if f"127.0.0.1:{port}" in l]
    print(f"{len(lines)} log lines about the broker after ~2 s of retries")
    assert len(lines) == 1, f"the same refusal was logged {len(lines)} times"
    code, body = ferry.get("/readyz")
    assert code == 503 and "refused" in body.lower(), (code, body)
    ferry.check_alive()


if __name__ == "__main__":
    harness.main(test)

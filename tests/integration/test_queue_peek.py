"""`ferry queue peek` (issue 14): with the landing zone down, records stay queued, and the CLI
shows the oldest of them as the NDJSON lines that will be sent, how many are queued in all, and
"more: ..." when it shows fewer than that. GET /queue/peek answers 400 to a bad limit."""

import json

import harness

COUNT = 5
PAYLOAD = '{"temperature":21.5,"n":{i}}'


def check_lines(lines: list[str], first_n: int) -> None:
    for k, line in enumerate(lines):
        record = json.loads(line)  # each line is one whole JSON record, as sent
        assert record["data"]["n"] == first_n + k, f"line {k} is not record {first_n + k}: {line}"
        assert record["topic"] == "zigbee2mqtt/dev1", line


def test(s: harness.Session) -> None:
    broker = s.broker()
    ferry = s.ferry(broker, None)  # the upstream url points at a port nothing listens on
    res = harness.publish(broker, "zigbee2mqtt/dev1", count=COUNT, payload=PAYLOAD)
    print(f"ferry-pub: {res}")
    harness.wait_for(lambda: harness.status_queue_records(ferry.status()) >= COUNT, 30,
                     f"{COUNT} queued records")

    run = ferry.run_cli("queue", "peek", "--url", ferry.base_url, "--limit", "3")
    print(f"ferry queue peek --limit 3 (exit {run.returncode}):\n{run.stdout}{run.stderr}")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0] == f"{COUNT} records queued, the oldest 3:", lines[0]
    check_lines(lines[1:4], 1)
    assert len(lines) == 5 and lines[4].startswith(f"more: {COUNT - 3} not shown"), lines

    # The status page's URL works as well; the default limit (10) shows them all, no "more".
    run = ferry.run_cli("queue", "peek", "--url", ferry.base_url.removeprefix("http://") + "/status")
    print(f"ferry queue peek (exit {run.returncode}):\n{run.stdout}{run.stderr}")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0] == f"{COUNT} records queued, the oldest {COUNT}:", lines[0]
    check_lines(lines[1:], 1)
    assert len(lines) == COUNT + 1 and not any(x.startswith("more:") for x in lines), lines

    for bad in ("0", "1001", "ten", "-1"):
        code, body = ferry.get(f"/queue/peek?limit={bad}")
        print(f"/queue/peek?limit={bad}: {code} {body.strip()}")
        assert code == 400 and "limit must be a whole number from 1 to 1000" in body, body
    code, body = ferry.get("/queue/peek")
    assert code == 200 and json.loads(body)["queued"] == COUNT, body

    ferry.stop()
    run = ferry.run_cli("queue", "peek", "--url", ferry.base_url)
    print(f"with the agent stopped (exit {run.returncode}): {run.stderr}")
    assert run.returncode == 1 and "cannot reach" in run.stderr, run.stderr


if __name__ == "__main__":
    harness.main(test)

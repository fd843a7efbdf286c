"""(a) SIGTERM while the landing zone holds a request (it answers only after 30 s;
upstream.timeout 60s, upstream.shutdown_grace 2s): ferry breaks the request off after the grace
period and exits 0 within about 3 s; the batch stays queued, and after a restart pointed at a
normal landing zone it is delivered once, under the same Idempotency-Key.

(b) Dead-letter replay. An invalid JSON payload and an empty one are dead-lettered at intake;
`ferry dead-letters list` shows them; `ferry dead-letters replay --all` replays them, they fail
again with the same reasons and stay dead letters. A record the landing zone refused (400 for
data.poison=true, scripted landing) is replayed by id with POST /dead-letters/replay once the
landing accepts everything: it lands with a new id and the same data. POST /dead-letters/replay
without a body answers 400."""

import json
import time
import urllib.error
import urllib.request

import harness
from scripted_landing import Response, ScriptedLanding, reject_poison

GRACE = 2.0


def post(url: str, body: bytes | None, timeout: float = 15) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body if body is not None else b"", method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def dead_letters(ferry) -> list:
    code, body = ferry.get("/dead-letters?limit=1000")
    assert code == 200, body
    return json.loads(body)["items"]


def part_shutdown(s: harness.Session, broker) -> None:
    print("---- (a) SIGTERM during a slow landing response")
    slow = ScriptedLanding(log_path=str(s.path("slow-landing.log")))
    slow.default = Response(200, delay=30)
    try:
        ferry = s.ferry(broker, slow, name="ferry-a", gateway="gw-grace",
                        subscriptions=["grace/+"],
                        overrides={"upstream": {"shutdown_grace": f"{int(GRACE)}s",
                                                "timeout": "60s"}})
        res = harness.publish(broker, "grace/dev1", count=10,
                              payload='{"temperature":20,"seq":{i},"pub":1}')
        assert res.acked == 10, res
        held = harness.wait_for(lambda: [p for p in slow.in_flight() if p.phase == "delaying"],
                                15, "the landing to hold a request", interval=0.05)[0]
        time.sleep(0.5)
        sent = time.monotonic()
        ferry.proc.send_signal(15)
        try:
            rc = ferry.proc.wait(GRACE + 8)
        except Exception:  # noqa: BLE001
            rc = None
        took = time.monotonic() - sent
        print(f"SIGTERM with {held.key} ({len(held.records)} records) held by the landing: "
              f"exit code {rc} after {took:.2f} s (shutdown_grace {GRACE:g} s)")
        log = ferry.log.read_text(errors="replace").splitlines()
        print("last log lines:\n  " + "\n  ".join(l[:200] for l in log[-4:]))
        assert rc == 0, f"ferry exited with {rc}"
        assert took <= GRACE + 1.5, f"ferry took {took:.2f} s to exit, shutdown_grace is {GRACE:g} s"
    finally:
        slow.stop()

    landing = s.landing(name="landing-a")
    ferry.config["upstream"]["url"] = landing.batches_url
    ferry.write_config()
    ferry.start()
    records = landing.wait_records(10, timeout=30, settle=2, ferry=ferry)
    keys = [b.key for b in landing.batches()]
    print(f"restarted against ferry-landing: {len(records)} records in {keys}")
    assert keys == [held.key], f"the batch came back under other keys: {keys} (was {held.key})"
    assert [r["id"] for r in records] == [r["id"] for r in held.records]
    harness.check_exactly_once(records, {(1, i) for i in range(1, 11)})
    ferry.stop()


def part_replay(s: harness.Session, broker) -> None:
    print("---- (b) dead-letter replay")
    landing = ScriptedLanding(log_path=str(s.path("replay-landing.log")))
    landing.rules = [reject_poison()]
    try:
        ferry = s.ferry(broker, landing, name="ferry-b", gateway="gw-replay",
                        subscriptions=["replay/+"],
                        overrides={harness.ROUTES_KEY: [{"topic": "replay/{device}"}],
                                   "upstream": {"batch": {"max_records": 100}}})
        bad = [("replay/bad_json", '{"a":'), ("replay/bad_empty", "")]
        res = harness.publish(broker, replay=harness.write_replay(s.path("bad.ndjson"), bad))
        assert res.acked == 2, res
        ferry.wait_metric("ferry_dead_letters", lambda v: v == 2, 15, "2 dead letters")
        before = {d["topic"]: d for d in dead_letters(ferry)}
        print("dead letters: " + "; ".join(f"#{d['id']} {t}: {d['reason']}" for t, d in before.items()))

        run = ferry.run_cli("dead-letters", "list", "--url", ferry.base_url)
        print(f"ferry dead-letters list (exit {run.returncode}):\n{run.stdout.rstrip()}")
        assert run.returncode == 0, run.stderr
        for topic, d in before.items():
            assert topic in run.stdout and d["reason"] in run.stdout, f"list does not show {topic}"

        run = ferry.run_cli("dead-letters", "replay", "--all", "--url", ferry.base_url)
        print(f"ferry dead-letters replay --all (exit {run.returncode}): {run.stdout.strip()}")
        assert run.returncode == 0, run.stderr
        after = {d["topic"]: d for d in dead_letters(ferry)}
        print("after the replay: " + "; ".join(f"#{d['id']} {t}: {d['reason']}" for t, d in after.items()))
        assert after.keys() == before.keys(), "the replayed dead letters did not stay dead letters"
        for topic in before:
            assert after[topic]["reason"] == before[topic]["reason"], (before[topic], after[topic])
            assert after[topic]["payload"] == before[topic]["payload"]
        assert "2 failed again" in run.stdout, run.stdout
        assert ferry.metric("ferry_dead_letters") == 2
        assert landing.count() == 0

        # A record the landing zone refuses.
        msgs = [("replay/dev1", json.dumps({"seq": i, "pub": 1, **({"poison": True} if i == 4 else {})}))
                for i in range(1, 8)]
        res = harness.publish(broker, replay=harness.write_replay(s.path("poison.ndjson"), msgs))
        assert res.acked == 7, res
        harness.wait_for(lambda: landing.count() == 6, 30, "the 6 clean records", interval=0.1)
        ferry.wait_metric("ferry_dead_letters", lambda v: v == 3, 15, "3 dead letters")
        refused = [d for d in dead_letters(ferry) if d["seq"] is not None]
        assert len(refused) == 1, refused
        dead = refused[0]
        old = json.loads(dead["payload"])
        print(f"refused by the landing: dead letter #{dead['id']} seq {dead['seq']} id {old['id']}: "
              f"{dead['reason'][:120]}")
        assert old["data"] == {"seq": 4, "pub": 1, "poison": True}

        landing.rules = []  # the landing zone accepts everything now
        code, body = post(ferry.base_url + "/dead-letters/replay", json.dumps({"ids": [dead["id"]]}).encode())
        print(f"POST /dead-letters/replay {{\"ids\":[{dead['id']}]}}: {code} {body.strip()}")
        assert code == 200, body
        result = json.loads(body)
        assert result["replayed"] == 1 and result["records"] == 1, result
        harness.wait_for(lambda: landing.count() == 7, 30, "the replayed record to land", interval=0.1)
        new = [r for r in landing.records() if r["data"].get("poison")]
        assert len(new) == 1, new
        new = new[0]
        print(f"replayed record landed as {new['id']} (was {old['id']}), data {new['data']}")
        assert new["id"] != old["id"] and new["seq"] > old["seq"]
        for field in ("data", "topic", "device", "ts", "received_at", "labels", "gateway", "source"):
            assert new.get(field) == old.get(field), f"{field}: {old.get(field)!r} -> {new.get(field)!r}"
        left = dead_letters(ferry)
        assert sorted(d["topic"] for d in left) == sorted(before), left
        ids = [r["id"] for r in landing.records()]
        assert len(ids) == len(set(ids)) == 7

        for body in (None, b"{}", b'{"ids":[]}', b"not json"):
            code, text = post(ferry.base_url + "/dead-letters/replay", body)
            print(f"POST /dead-letters/replay with body {body!r}: {code} {text.strip()}")
            assert code == 400, f"{body!r} answered {code}"
        assert not landing.violations, landing.violations[:3]
        ferry.check_alive()
    finally:
        landing.stop()


def test(s: harness.Session) -> None:
    s.pin_binaries()  # restarts keep using the binaries this run started with
    broker = s.broker()
    part_shutdown(s, broker)
    part_replay(s, broker)


if __name__ == "__main__":
    harness.main(test)

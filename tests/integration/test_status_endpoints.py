"""The local status server: /healthz, /readyz, /status, /metrics, and how they follow the
broker connection going away and coming back."""

import json

import harness


def check_status_document(status: dict, gateway: str) -> None:
    for key, inner in harness.STATUS_REQUIRED.items():
        assert key in status, f"/status lacks '{key}': {json.dumps(status)}"
        for sub in inner or []:
            assert isinstance(status[key], dict) and sub in status[key], \
                f"/status lacks '{key}.{sub}': {json.dumps(status)}"
    gw = status["gateway"]
    assert gateway in (gw if isinstance(gw, str) else json.dumps(gw)), f"gateway: {gw}"
    assert status["uptime_seconds"] >= 0, status
    assert harness.status_mqtt_connected(status), f"mqtt not connected: {status['mqtt']}"


def check_metric_types(metrics: harness.Metrics) -> None:
    for name, kind in harness.CONTRACT_METRICS.items():
        assert metrics.types.get(name) == kind, \
            f"/metrics lacks '# TYPE {name} {kind}' (has {metrics.types.get(name)!r})"
    others = [n for n in metrics.types if not n.startswith("ferry_")]
    assert not others, f"metric names without the ferry_ prefix: {others}"
    print(f"/metrics: {len(metrics.types)} metrics, all {len(harness.CONTRACT_METRICS)} of the "
          f"contract with their types")


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing)
    harness.publish(broker, "zigbee2mqtt/dev{p}", count=10)
    landing.wait_records(10, timeout=30, settle=0)

    code, body = ferry.get("/healthz")
    assert (code, body.strip()) == (200, "ok"), f"/healthz: {code} {body!r}"
    code, body = ferry.get("/readyz")
    assert code == 200, f"/readyz: {code} {body!r}"
    status = ferry.status()
    print(f"/status: {json.dumps(status)}")
    check_status_document(status, ferry.gateway)
    metrics = ferry.metrics()
    check_metric_types(metrics)
    assert metrics.sum("ferry_mqtt_connected") == 1, "ferry_mqtt_connected is not 1"

    rc = broker.stop()
    print(f"broker stopped (exit code {rc})")
    ferry.wait_metric("ferry_mqtt_connected", lambda v: v == 0, 20, "ferry_mqtt_connected 0")
    code, body = harness.wait_for(lambda: (r := ferry.get("/readyz"))[0] == 503 and r, 20,
                                  "/readyz to answer 503")
    print(f"/readyz without the broker: {code} {body.strip()!r}")
    assert body.strip(), "/readyz gave 503 without a reason"
    assert not harness.status_mqtt_connected(ferry.status()), "/status still says connected"
    code, body = ferry.get("/healthz")
    assert code == 200, f"/healthz must stay 200 while the broker is away: {code} {body!r}"

    broker.start()
    print(f"broker restarted on port {broker.port}")
    ferry.wait_metric("ferry_mqtt_connected", lambda v: v == 1, 40, "ferry_mqtt_connected 1")
    harness.wait_for(lambda: ferry.get("/readyz")[0] == 200, 20, "/readyz 200 again")
    assert harness.status_mqtt_connected(ferry.status()), "/status does not say connected"
    print("reconnected: ferry_mqtt_connected 1, /readyz 200")

    harness.publish(broker, "zigbee2mqtt/after{p}", count=5)
    landing.wait_records(15, timeout=30, settle=0)
    print("messages after the reconnect arrive")


if __name__ == "__main__":
    harness.main(test)

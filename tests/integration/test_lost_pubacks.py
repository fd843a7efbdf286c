"""PUBACKs lost in a crash after the records were delivered: no second copy at the landing zone.

Ferry sends a group's PUBACKs right after its commit, and the forwarder may deliver that group
at once. If ferry then dies before the broker has read those PUBACKs, the broker sends the
messages again on the next connection, although the landing zone already holds them. The
redelivery filter must still recognize them, so the acks of a group have to outlive its
delivery (storage/FORMAT.md, `kept_acks`).

Ferry reaches mosquitto through a TCP proxy (tcp_proxy.py) that holds back everything ferry
sends while the messages arrive, stands in for "the PUBACKs never got there", and drops it
when ferry is killed. Two rounds:

  1  300 messages, all delivered, then the crash: all 300 come again and are recognized
  2  50 messages, then 5 that become dead letters (a group without records), then 50 more:
     all 105 come again, and the dead-letter group must be recognized too, or the redelivery
     phase would end there and the last 50 be stored twice
  3  250 messages that a route explodes into 40 records each: a group of 10,000 records,
     longer than the 8,192 sequence numbers whose acks the queue keeps by default; the newest
     groups' acks are kept whatever their size, so all 250 are recognized again
"""

import harness
from tcp_proxy import TcpProxy

ROUND1 = 300  # under the harness broker's max_inflight_messages, so all are redelivered at once
ROUND2 = 50
BAD = 5
ROUND3 = 250
PER_MESSAGE = 40
BULK = '{"seq":{i},"items":[' + ",".join(f'{{"k":{k}}}' for k in range(PER_MESSAGE)) + "]}"


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    proxy = TcpProxy(broker.port)
    try:
        ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/+", "bulk/+"], overrides={
            "mqtt": {"port": proxy.port},
            harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/{device}"},
                                 {"topic": "bulk/{device}", "explode": {"path": "items"}}]})
        round1(s, broker, landing, ferry, proxy)
        round2(s, broker, landing, ferry, proxy)
        round3(s, broker, landing, ferry, proxy)
        ferry.check_alive()
    finally:
        proxy.stop()


def publish(s, broker, topic: str, count: int, payload: str | None = None) -> None:
    res = harness.start_publish(s, broker, topic, count=count, qos=1, payload=payload,
                                client_prefix=topic.replace("/", "-")).wait(60)
    assert res.acked == count, f"the broker did not take every message: {res}"


def crash_and_restart(ferry, proxy: TcpProxy, landing, redelivered: int) -> None:
    """Kills ferry with its PUBACKs unsent, restarts it, waits for the broker's redeliveries."""
    skipped = lambda: ferry.metric("ferry_mqtt_redeliveries_skipped_total")  # noqa: E731
    dead = lambda: ferry.metric("ferry_dead_letters")  # noqa: E731
    held, dead_before = landing.count(), dead()
    ferry.kill_group()
    dropped = proxy.drop_and_close()
    print(f"ferry killed with {held} records at the landing; {dropped} bytes it sent "
          f"(its PUBACKs) dropped")
    assert dropped >= 4 * redelivered, f"only {dropped} bytes held: were the PUBACKs sent?"
    proxy.hold = False
    pubacks_before = proxy.pubacks
    ferry.start()
    harness.wait_for(lambda: skipped() >= redelivered or landing.count() > held or
                     dead() > dead_before, 30, f"the broker's {redelivered} redeliveries",
                     interval=0.2)
    print(f"redeliveries recognized and acknowledged without a record: {skipped():.0f}; "
          f"landing holds {landing.count()} records")
    assert landing.count() == held, "redelivered messages were stored a second time"
    assert dead() == dead_before, "redelivered messages were dead-lettered a second time"
    assert skipped() == redelivered, f"{skipped():.0f} skipped, expected {redelivered}"
    # The next round may hold PUBACKs again only once these have reached the broker.
    harness.wait_for(lambda: proxy.pubacks - pubacks_before >= redelivered, 10,
                     "the PUBACKs of the redeliveries to reach the broker", interval=0.05)


def round1(s, broker, landing, ferry, proxy: TcpProxy) -> None:
    proxy.hold = True
    publish(s, broker, "zigbee2mqtt/one{p}", ROUND1)
    landing.wait_records(ROUND1, timeout=30, settle=1, ferry=ferry)
    assert ferry.metric("ferry_queue_records") == 0, "the records should all be delivered"
    crash_and_restart(ferry, proxy, landing, ROUND1)


def round2(s, broker, landing, ferry, proxy: TcpProxy) -> None:
    proxy.hold = True
    publish(s, broker, "zigbee2mqtt/two{p}", ROUND2)
    landing.wait_records(ROUND1 + ROUND2, timeout=30, settle=0.5, ferry=ferry)
    publish(s, broker, "zigbee2mqtt/bad{p}", BAD, payload='{"a":')
    ferry.wait_metric("ferry_dead_letters", lambda v: v == BAD, 10, f"{BAD} dead letters")
    publish(s, broker, "zigbee2mqtt/three{p}", ROUND2)
    landing.wait_records(ROUND1 + 2 * ROUND2, timeout=30, settle=1, ferry=ferry)
    crash_and_restart(ferry, proxy, landing, 2 * ROUND2 + BAD)

    # The redelivery phase is over: new messages are records again.
    publish(s, broker, "zigbee2mqtt/later{p}", ROUND2)
    records = landing.wait_records(ROUND1 + 3 * ROUND2, timeout=30, settle=2, ferry=ferry)
    by_topic = [(r["topic"].split("/")[1].rstrip("1"), r["data"]["seq"]) for r in records]
    expected = {("one", i) for i in range(1, ROUND1 + 1)}
    expected |= {(t, i) for t in ("two", "three", "later") for i in range(1, ROUND2 + 1)}
    harness.check_exactly_once([{"id": r["id"], "data": {"pub": t, "seq": i}}
                                for r, (t, i) in zip(records, by_topic)], expected)


def round3(s, broker, landing, ferry, proxy: TcpProxy) -> None:
    before = landing.count()
    proxy.hold = True
    publish(s, broker, "bulk/dev{p}", ROUND3, payload=BULK)
    landing.wait_records(before + ROUND3 * PER_MESSAGE, timeout=30, settle=1, ferry=ferry)
    print(f"{ROUND3} messages became {landing.count() - before} records")
    crash_and_restart(ferry, proxy, landing, ROUND3)


if __name__ == "__main__":
    harness.main(test)

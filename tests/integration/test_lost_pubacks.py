"""PUBACKs lost in a crash after the records were delivered: no second copy at the landing zone.

Ferry sends a group's PUBACKs right after its commit, and the forwarder may deliver that group
at once. If ferry then dies before the broker has read those PUBACKs, the broker sends the
messages again on the next connection, although the landing zone already holds them. The
redelivery filter must still recognize them, so the acks of a group have to outlive its
delivery (storage/FORMAT.md, `delivered_acks`).

Ferry reaches mosquitto through a TCP proxy (tcp_proxy.py) that holds back everything ferry
sends while the messages arrive, stands in for "the PUBACKs never got there", and drops it
when ferry is killed.
"""

import harness
from tcp_proxy import TcpProxy

COUNT = 300  # under the harness broker's max_inflight_messages, so all are redelivered at once
LATER = 50


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    proxy = TcpProxy(broker.port)
    try:
        run(s, broker, landing, proxy)
    finally:
        proxy.stop()


def run(s: harness.Session, broker, landing, proxy: TcpProxy) -> None:
    ferry = s.ferry(broker, landing, overrides={"mqtt": {"port": proxy.port}})
    proxy.hold = True
    res = harness.start_publish(s, broker, "zigbee2mqtt/dev{p}", count=COUNT, qos=1).wait(60)
    assert res.acked == COUNT, f"the broker did not take every message: {res}"
    landing.wait_records(COUNT, timeout=30, settle=1, ferry=ferry)
    assert ferry.metric("ferry_queue_records") == 0, "the records should all be delivered"
    ferry.kill_group()
    dropped = proxy.drop_and_close()
    print(f"{COUNT} messages delivered, then ferry killed; {dropped} bytes it sent "
          f"(its PUBACKs) were dropped")
    assert dropped >= 4 * COUNT, f"only {dropped} bytes held: were the PUBACKs sent at all?"

    proxy.hold = False
    ferry.start()
    skipped = lambda: ferry.metric("ferry_mqtt_redeliveries_skipped_total")  # noqa: E731
    harness.wait_for(lambda: skipped() >= COUNT or landing.count() > COUNT, 30,
                     f"the broker's {COUNT} redeliveries", interval=0.2)
    print(f"redeliveries recognized and acknowledged without a record: {skipped():.0f}; "
          f"landing holds {landing.count()} records")
    assert landing.count() == COUNT, "redelivered messages were stored a second time"

    # The redelivery phase is over: new messages are records again.
    res = harness.start_publish(s, broker, "zigbee2mqtt/later{p}", count=LATER, qos=1,
                                client_prefix="later").wait(60)
    assert res.acked == LATER, f"the broker did not take every later message: {res}"
    records = landing.wait_records(COUNT + LATER, timeout=30, settle=2, ferry=ferry)
    first = {("dev", r["data"]["seq"]) for r in records if r["topic"] == "zigbee2mqtt/dev1"}
    later = {("later", r["data"]["seq"]) for r in records if r["topic"] == "zigbee2mqtt/later1"}
    expected = {("dev", i) for i in range(1, COUNT + 1)} | {("later", i) for i in range(1, LATER + 1)}
    print(f"landing: {len(records)} records")
    harness.check_exactly_once(
        [dict(r, data={"pub": r["topic"], "seq": r["data"]["seq"]}) for r in records],
        {(f"zigbee2mqtt/{k}1", i) for k, i in expected})
    assert first | later == expected
    assert skipped() == COUNT, f"{skipped():.0f} messages skipped, expected {COUNT}"
    ferry.check_alive()


if __name__ == "__main__":
    harness.main(test)

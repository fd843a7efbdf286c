"""What an s3:// upstream's operator sees when the store refuses: wrong credentials, a gateway
clock an hour behind (faketime), a bucket that does not exist, and, against a store that verifies
signatures (FERRY_S3_ENDPOINT, e.g. Ceph's RADOS Gateway), a wrong secret. Each shows in /status and the log
with what to do, nothing is lost, and once the cause is fixed (new credentials + SIGHUP) the
queued records land exactly once."""

import shutil
import signal

import harness
import s3harness

N = 40
PAYLOAD = '{"temperature":21.5,"seq":{i},"pub":{p}}'


def wait_error(ferry: harness.Ferry, text: str, state: str | None = None) -> dict:
    def shown():
        st = ferry.status()
        err = st.get("last_error") or {}
        message = err.get("message", "") if isinstance(err, dict) else str(err)
        if text in message and (state is None or harness.status_upstream_state(st) == state):
            return st
        return None
    st = harness.wait_for(shown, 30, f"{ferry.name}'s /status to say {text!r}")
    assert text in ferry.log.read_text(), f"{ferry.name}'s log does not say {text!r}"
    assert harness.status_queue_records(st) == N, f"{ferry.name} queue: {st['queue']}"
    print(f"{ferry.name}: upstream {st['upstream']}, last_error {st['last_error']}")
    return st


def test(s: harness.Session) -> None:
    s3 = s3harness.store(s)
    broker = s.broker()
    # s3rver checks the access key id, not the signature (see s3harness): a wrong key it is.
    wrong = s3harness.write_credentials(s.path("wrong-credentials"), key="NOT-A-KEY")
    denied = s3harness.s3_ferry(s, broker, s3, name="denied", gateway="gw-denied",
                                credentials=wrong, subscriptions=["gw-denied/+"])
    nobucket = s3harness.s3_ferry(s, broker, s3, name="nobucket", gateway="gw-nobucket",
                                  bucket="no-such-bucket", subscriptions=["gw-nobucket/+"])
    skewed = s3harness.s3_ferry(s, broker, s3, name="skewed", gateway="gw-skewed", start=False,
                                subscriptions=["gw-skewed/+"])
    forged = None
    if s3.verifies_signatures:
        # A store that verifies SigV4 (Ceph's RADOS Gateway): the right key, a wrong secret.
        forged_credentials = s3harness.write_credentials(s.path("forged-credentials"),
                                                         secret="not-the-secret-key")
        forged = s3harness.s3_ferry(s, broker, s3, name="forged", gateway="gw-forged",
                                    credentials=forged_credentials,
                                    subscriptions=["gw-forged/+"])
    faketime = shutil.which("faketime")
    if faketime is None:
        s3harness.skip("faketime (Debian package faketime) is needed for the skewed clock")
    # Only the wall clock: ferry's timers run on the monotonic one, which libfaketime would
    # shift too and so confuse the timed waits of its threads.
    skewed.start(wrapper=["env", "FAKETIME_DONT_FAKE_MONOTONIC=1", faketime, "-f", "-1h"])
    try:
        check(s, s3, broker, wrong, denied, nobucket, skewed, forged)
    finally:
        skewed.kill_group()  # the harness ends the wrapper only; ferry runs in its group


def check(s: harness.Session, s3: s3harness.S3rver | s3harness.ExternalS3, broker: harness.Broker, wrong,
          denied: harness.Ferry, nobucket: harness.Ferry, skewed: harness.Ferry,
          forged: harness.Ferry | None) -> None:
    for ferry in (denied, nobucket, skewed) + ((forged,) if forged else ()):
        harness.publish(broker, f"{ferry.gateway}/dev{{p}}", count=N, payload=PAYLOAD,
                        client_prefix=f"{ferry.name}-")
    wait_error(denied, "refused the credentials: 403 InvalidAccessKeyId", "auth_failed")
    wait_error(nobucket, "configuration error: bucket no-such-bucket at")
    st = wait_error(skewed, "the gateway's clock is wrong by ", "auth_failed")
    assert "minutes behind the store's time" in st["last_error"], st["last_error"]
    if forged:
        wait_error(forged, "refused the credentials: 403 SignatureDoesNotMatch", "auth_failed")
    assert not s3.object_files(), "objects landed although every upload was refused"

    s3harness.write_credentials(wrong)  # the right ones now
    denied.proc.send_signal(signal.SIGHUP)
    records = s3harness.wait_landed(s3, "fleet", N)
    denied.wait_metric("ferry_queue_records", lambda v: v == 0, 30, "denied's queue to drain")
    records = s3.records("fleet")
    s3harness.check_exactly_once(records, {(1, i) for i in range(1, N + 1)})
    print(f"after new credentials and SIGHUP: {len(records)} records landed once")
    if forged:
        s3harness.write_credentials(s.path("forged-credentials"))
        forged.proc.send_signal(signal.SIGHUP)
        s3harness.wait_landed(s3, "fleet", 2 * N)
        forged.wait_metric("ferry_queue_records", lambda v: v == 0, 30, "forged's queue to drain")
        records = [r for r in s3.records("fleet") if r["gateway"] == "gw-forged"]
        s3harness.check_exactly_once(records, {(1, i) for i in range(1, N + 1)})
        print(f"a wrong secret refused (SignatureDoesNotMatch); after the right one and SIGHUP: "
              f"{len(records)} records landed once")


if __name__ == "__main__":
    harness.main(test)

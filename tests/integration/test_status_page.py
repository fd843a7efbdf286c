"""The status page at GET / (issue 14), in headless Chromium against a live agent: it loads
without console errors, shows the figures /status reports, updates by itself as messages
arrive, shows dead letters safely (a payload holding HTML stays text), its purge button works,
and a page of another site cannot make the browser purge or replay. A screenshot is kept as
an artifact: <build>/test-artifacts/status_page.png."""

import http.server
import json
import shutil
import sys
import threading

import cdp
import harness

EVIL_HTML = """<!doctype html><title>evil</title><body><form id=f method=POST
action="%(ferry)s/dead-letters/purge" enctype="text/plain"><input name='{"all":true,"x":"' value='"}'></form>
<script>
(async () => {
  const tries = [
    fetch("%(ferry)s/dead-letters/purge", {method: "POST", mode: "no-cors", body: '{"all":true}'}),
    fetch("%(ferry)s/dead-letters/purge", {method: "POST", headers: {"X-Ferry-Request": "page",
      "Content-Type": "application/json"}, body: '{"all":true}'}),
    fetch("%(ferry)s/dead-letters/replay", {method: "POST", mode: "no-cors", body: '{"all":true}'}),
  ];
  for (const t of tries) { try { await t; } catch (e) {} }
  document.title = "tried";
  document.getElementById("f").submit();
})();
</script>"""


def serve(html: str) -> tuple[http.server.HTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def page_text(browser: cdp.Browser, element_id: str) -> str:
    return browser.evaluate(f"document.getElementById({json.dumps(element_id)}).textContent")


def count(n) -> str:
    return f"{int(n):,}"


def check_figures(browser: cdp.Browser, ferry: harness.Ferry) -> dict:
    """Waits until the page shows what /status says (both are read again until they agree)."""
    def agree():
        s = ferry.status()
        want = {"received": count(s["counters"]["records_received"]),
                "delivered": count(s["counters"]["records_delivered"]),
                "dead_lettered": count(s["counters"]["records_dead_lettered"]),
                "queue_records": count(s["queue"]["records"]),
                "gateway": s["gateway"], "upstream_state": s["upstream"]["state"],
                "mqtt_connected": "yes" if s["mqtt"]["connected"] else "no"}
        got = {k: page_text(browser, k) for k in want}
        return (want,) if got == want else None
    return harness.wait_for(agree, 20, "the page to show the figures /status reports")[0]


def test(s: harness.Session) -> None:
    if cdp.find_chromium() is None:
        print("SKIP: chromium is not installed (toolchains/install-deps.sh installs it)")
        sys.exit(77)
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, overrides={
        harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/{device}"}]})
    good = [(f"zigbee2mqtt/dev{i}", '{"temperature":%d}' % i) for i in range(20)]
    bad = [("zigbee2mqtt/x", '{"x": "<img src=x onerror=\\"document.title=\'pwned\'\\">'),
           ("zigbee2mqtt/bin", b"\xff\x00\x1b[2J"), ("zigbee2mqtt/empty", "")]
    harness.publish(broker, replay=harness.write_replay(s.path("m1.ndjson"), good + bad), qos=1)
    landing.wait_records(20, timeout=30)
    ferry.wait_metric("ferry_dead_letters", lambda v: v == 3, 20, "3 dead letters")

    code, html = ferry.get("/")
    assert code == 200 and "<title>Ferry status</title>" in html, (code, html[:200])
    print(f"GET / : {len(html.encode())} bytes")
    assert len(html.encode()) < 64 * 1024, "the page should stay small"

    browser = cdp.Browser(s.path("chromium.log"))
    try:
        browser.navigate(ferry.base_url + "/")
        harness.wait_for(lambda: browser.evaluate("Number(document.body.dataset.refreshes)") >= 1,
                         20, "the page to load its data")
        shown = check_figures(browser, ferry)
        print(f"page shows: {shown}")
        assert page_text(browser, "ready") == "ready"

        # It updates by itself.
        more = [(f"zigbee2mqtt/late{i}", '{"temperature":1}') for i in range(10)]
        harness.publish(broker, replay=harness.write_replay(s.path("m2.ndjson"), more), qos=1)
        landing.wait_records(30, timeout=30)
        harness.wait_for(lambda: page_text(browser, "received") == count(33), 20,
                         "the page to show 33 received without a reload")
        check_figures(browser, ferry)
        samples = browser.evaluate("Number(document.body.dataset.samples)")
        print(f"history samples drawn: {samples}")
        assert samples >= 1

        # Dead letters: shown as text, never as markup.
        rows = browser.evaluate("[...document.querySelectorAll('#dead_letters tr')]"
                                ".map(r => r.textContent)")
        print(f"dead-letter rows: {rows}")
        assert len(rows) == 3 and any("<img src=x" in r for r in rows), rows
        assert any("hex: ff 00 1b" in r for r in rows), rows
        assert browser.evaluate("document.title") == "Ferry status"
        assert browser.evaluate("document.querySelectorAll('#dead_letters img').length") == 0

        errors = browser.console_errors()
        assert not errors, f"console errors on the status page: {errors}"

        # The purge button of the first row.
        first = browser.evaluate("document.querySelector('#dead_letters tr').dataset.id")
        browser.evaluate("document.querySelector('#dead_letters tr button.danger').click()")
        harness.wait_for(lambda: ferry.status()["dead_letters"] == 2, 20, "the purge to happen")
        harness.wait_for(lambda: browser.evaluate(
            "document.querySelectorAll('#dead_letters tr').length") == 2, 20, "the row to go")
        print(f"purged dead letter {first} from the page: {page_text(browser, 'notice')}")

        artifacts = harness.BIN_DIR / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        browser.screenshot(artifacts / "status_page.png")
        shutil.copy(artifacts / "status_page.png", s.path("status_page.png"))
        print(f"screenshot: {artifacts / 'status_page.png'}")

        # Another site tries to purge and replay through the operator's browser.
        evil, evil_url = serve(EVIL_HTML % {"ferry": ferry.base_url})
        try:
            browser.navigate(evil_url)
            harness.wait_for(lambda: browser.evaluate("document.title") in ("tried", "")
                             or browser.evaluate("location.href") != evil_url, 20,
                             "the other site's page to try")
            harness.wait_for(lambda: browser.evaluate("location.href") != evil_url, 20,
                             "the form post")
        finally:
            evil.shutdown()
        status = ferry.status()
        print(f"after the other site's attempts: {status['dead_letters']} dead letters, "
              f"purged {status['dead_letter_store']['purged']}")
        assert status["dead_letters"] == 2, "another site purged or replayed dead letters"
        assert status["dead_letter_store"]["purged"] == 1
    finally:
        browser.close()


if __name__ == "__main__":
    harness.main(test)

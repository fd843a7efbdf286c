// The status page (status_page.h). Kept as one HTML document in a raw string: edit it here.
#include "agent/status/status_page.h"

namespace ferry::agent {

namespace {

// clang-format off
constexpr std::string_view kPage = R"ferry_page(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ferry status</title>
<link rel="icon" href="data:,">
<style>
:root{--bg:#f5f6f8;--card:#fff;--ink:#1d2330;--dim:#667085;--ok:#13795b;--warn:#b54708;--bad:#c01048;--line:#d0d5dd;--a:#2563eb;--b:#13795b;--c:#b54708}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;flex-wrap:wrap;gap:12px;align-items:baseline;padding:14px 20px;background:#1d2330;color:#fff}
header h1{font-size:18px;margin:0}
header .dim{color:#b8c0cc}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px;background:#667085;color:#fff}
.badge.ok{background:var(--ok)}.badge.warn{background:var(--warn)}.badge.bad{background:var(--bad)}
main{padding:16px 20px;display:grid;gap:14px;grid-template-columns:repeat(auto-fill,minmax(280px,1fr))}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
section.wide{grid-column:1/-1}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--dim);margin:0 0 8px}
dl{display:grid;grid-template-columns:auto 1fr;gap:3px 12px;margin:0}
dt{color:var(--dim)}dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.bar{height:10px;background:#eaecf0;border-radius:5px;overflow:hidden;margin:6px 0}
.bar>div{height:100%;background:var(--a);width:0}
.bar.warn>div{background:var(--warn)}.bar.bad>div{background:var(--bad)}
svg{width:100%;height:150px;display:block}
svg text{font-size:10px;fill:var(--dim)}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eaecf0;vertical-align:top}
td.payload{font-family:ui-monospace,monospace;font-size:12px;max-width:420px;overflow-wrap:anywhere}
button{font:inherit;font-size:12px;padding:2px 8px;border:1px solid var(--line);border-radius:4px;background:#fff;cursor:pointer}
button.danger{border-color:var(--bad);color:var(--bad)}
#notice{min-height:1.4em;color:var(--dim)}#notice.bad{color:var(--bad)}
ul.errors{margin:0;padding-left:18px}ul.errors li{margin-bottom:4px;overflow-wrap:anywhere}
</style>
</head>
<body data-refreshes="0">
<header>
  <h1>Ferry <span id="gateway">…</span></h1>
  <span class="badge" id="ready">…</span>
  <span class="dim" id="version"></span>
  <span class="dim">up <span id="uptime">…</span></span>
  <span class="dim" id="updated"></span>
</header>
<main>
  <section><h2>Broker (MQTT)</h2><dl>
    <dt>connected</dt><dd id="mqtt_connected">…</dd>
    <dt>state</dt><dd id="mqtt_state">…</dd>
    <dt>readiness</dt><dd id="ready_why">…</dd></dl></section>
  <section><h2>Landing zone</h2><dl>
    <dt>state</dt><dd id="upstream_state">…</dd>
    <dt>breaker</dt><dd id="breaker">…</dd>
    <dt>failures in a row</dt><dd id="failures">…</dd>
    <dt>next attempt</dt><dd id="next_attempt">…</dd></dl></section>
  <section><h2>Queue</h2><dl>
    <dt>records</dt><dd id="queue_records">…</dd>
    <dt>stored</dt><dd id="queue_bytes">…</dd>
    <dt>oldest record</dt><dd id="oldest_age">…</dd>
    <dt>disk</dt><dd id="disk">…</dd></dl>
    <div class="bar" id="disk_bar" title="disk use against storage.max_size"><div></div></div></section>
  <section><h2>Counters since start</h2><dl>
    <dt>received</dt><dd id="received">…</dd>
    <dt>stored</dt><dd id="stored">…</dd>
    <dt>delivered</dt><dd id="delivered">…</dd>
    <dt>dead-lettered</dt><dd id="dead_lettered">…</dd>
    <dt>dropped</dt><dd id="dropped">…</dd>
    <dt>memory (RSS)</dt><dd id="rss">…</dd></dl></section>
  <section class="wide"><h2>Intake and delivery, records per second</h2>
    <div class="legend"><span><i style="background:var(--a)"></i>received</span><span><i style="background:var(--b)"></i>delivered</span><span><i style="background:var(--c)"></i>dead-lettered</span></div>
    <svg id="rates" viewBox="0 0 800 150" preserveAspectRatio="none"></svg></section>
  <section class="wide"><h2>Queue depth, records</h2>
    <svg id="depth" viewBox="0 0 800 150" preserveAspectRatio="none"></svg></section>
  <section class="wide"><h2>Recent errors</h2><ul class="errors" id="errors"><li>none</li></ul></section>
  <section class="wide"><h2>Dead letters <span id="dl_count"></span></h2>
    <div class="bar" id="dl_bar" title="dead-letter store against storage.dead_letters.max_size"><div></div></div>
    <p class="dim" id="dl_store"></p>
    <p><button id="replay_all">Replay all</button> <button id="purge_all" class="danger">Purge all</button> <span id="notice"></span></p>
    <table><thead><tr><th>id</th><th>dead-lettered</th><th>topic</th><th>reason</th><th>payload</th><th></th></tr></thead>
    <tbody id="dead_letters"><tr><td colspan="6">…</td></tr></tbody></table></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const set = (id, text) => { $(id).textContent = text; };
function fmtCount(n) { return Number(n).toLocaleString("en-US"); }
function fmtBytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0; n = Number(n);
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}
function fmtDuration(s) {
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d) return d + "d " + h + "h"; if (h) return h + "h " + m + "m"; if (m) return m + "m " + (s % 60) + "s";
  return s + "s";
}
// Control characters shown as escapes; the text itself always goes in through textContent.
function visible(text, max) {
  let out = String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g,
      (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
  if (out.length > max) out = out.slice(0, max) + "… (" + text.length + " characters)";
  return out;
}
async function getJson(path) {
  const r = await fetch(path, {cache: "no-store"});
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}
// Changes carry the header only this page sends: other sites cannot (request_guard.h).
async function post(path, body) {
  const r = await fetch(path, {method: "POST", cache: "no-store",
    headers: {"Content-Type": "application/json", "X-Ferry-Request": "page"}, body: JSON.stringify(body)});
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || (path + ": HTTP " + r.status));
  return j;
}
function notice(text, bad) { const n = $("notice"); n.textContent = text; n.className = bad ? "bad" : ""; }
function bar(id, used, max) {
  const f = max > 0 ? Math.min(1, used / max) : 0;
  $(id).firstElementChild.style.width = (f * 100).toFixed(1) + "%";
  $(id).className = "bar" + (f >= 0.9 ? " bad" : f >= 0.7 ? " warn" : "");
}
function renderStatus(s) {
  set("gateway", s.gateway); set("version", "ferry " + s.version); set("uptime", fmtDuration(s.uptime_seconds));
  set("mqtt_connected", s.mqtt.connected ? "yes" : "no"); set("mqtt_state", s.mqtt.state);
  const up = s.upstream; set("upstream_state", up.state); set("breaker", up.breaker);
  set("failures", fmtCount(up.consecutive_failures)); set("next_attempt", up.next_attempt || "—");
  const q = s.queue; set("queue_records", fmtCount(q.records)); set("queue_bytes", fmtBytes(q.bytes));
  set("oldest_age", q.records ? fmtDuration(q.oldest_age_seconds) : "—");
  set("disk", fmtBytes(q.disk_bytes) + " of " + fmtBytes(q.max_bytes)); bar("disk_bar", q.disk_bytes, q.max_bytes);
  const c = s.counters; set("received", fmtCount(c.records_received)); set("stored", fmtCount(c.records_stored));
  set("delivered", fmtCount(c.records_delivered)); set("dead_lettered", fmtCount(c.records_dead_lettered));
  set("dropped", fmtCount(c.records_dropped)); set("rss", fmtBytes(s.process.rss_bytes));
  const d = s.dead_letter_store; set("dl_count", "(" + fmtCount(s.dead_letters) + ")");
  set("dl_store", fmtBytes(d.bytes) + " of " + fmtBytes(d.max_bytes) + ", policy " + d.policy +
      (d.full ? ": FULL, intake is paused until dead letters are replayed or purged" : "") +
      (d.dropped ? ", " + fmtCount(d.dropped) + " dropped at the bound" : ""));
  bar("dl_bar", d.bytes, d.max_bytes);
  const errors = s.recent_errors || [], ul = $("errors"); ul.replaceChildren();
  for (const e of errors.slice().reverse()) { const li = document.createElement("li"); li.textContent = e.at + "  " + e.error; ul.append(li); }
  if (!errors.length) { const li = document.createElement("li"); li.textContent = "none"; ul.append(li); }
}
function chart(svg, times, series) {
  const W = 800, H = 150, pad = 18; svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const t0 = times[0] || 0, t1 = times[times.length - 1] || 1, span = Math.max(1, t1 - t0);
  for (const s of series) {
    if (s.values.length < 2) continue;
    const p = document.createElementNS(ns, "polyline");
    p.setAttribute("points", s.values.map((v, i) =>
      ((times[i] - t0) / span * (W - 2)).toFixed(1) + "," + (H - pad - v / max * (H - 2 * pad)).toFixed(1)).join(" "));
    p.setAttribute("fill", "none"); p.setAttribute("stroke", s.color); p.setAttribute("stroke-width", "2");
    p.setAttribute("vector-effect", "non-scaling-stroke"); svg.append(p);
  }
  const label = (x, y, text, anchor) => { const t = document.createElementNS(ns, "text");
    t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("text-anchor", anchor); t.textContent = text; svg.append(t); };
  label(2, 11, "max " + (max < 10 ? max.toFixed(2) : fmtCount(Math.round(max))), "start");
  label(W - 2, H - 4, times.length ? "now" : "no samples yet", "end");
  if (times.length > 1) label(2, H - 4, "-" + fmtDuration((t1 - t0) / 1000), "start");
}
function rates(h, key) {
  const out = [];
  for (let i = 0; i < h.t.length; i++) {
    if (i === 0) { out.push(0); continue; }
    const dt = (h.t[i] - h.t[i - 1]) / 1000;
    out.push(dt > 0 ? Math.max(0, h[key][i] - h[key][i - 1]) / dt : 0);
  }
  return out;
}
async function refreshHistory() {
  const h = await getJson("/status/history");
  chart($("rates"), h.t, [{values: rates(h, "received"), color: "#2563eb"},
    {values: rates(h, "delivered"), color: "#13795b"}, {values: rates(h, "dead_lettered"), color: "#b54708"}]);
  chart($("depth"), h.t, [{values: h.queue_records, color: "#2563eb"}]);
  document.body.dataset.samples = h.t.length;
}
function button(text, cls, action) {
  const b = document.createElement("button"); b.textContent = text; if (cls) b.className = cls;
  b.addEventListener("click", action); return b;
}
async function act(what, path, body) {
  try { const r = await post(path, body); notice(what + ": " + JSON.stringify(r), false); }
  catch (e) { notice(what + " failed: " + e.message, true); }
  await refreshAll();
}
async function refreshDeadLetters() {
  const page = await getJson("/dead-letters?limit=50"), tb = $("dead_letters"); tb.replaceChildren();
  for (const d of page.items) {
    const tr = document.createElement("tr"); tr.dataset.id = d.id;
    const payload = d.payload_hex !== undefined ? "hex: " + d.payload_hex.replace(/(..)/g, "$1 ").slice(0, 360) : visible(d.payload, 240);
    for (const [text, cls] of [[d.id], [d.dead_lettered_at], [visible(d.topic, 120)], [visible(d.reason, 240)], [payload, "payload"]]) {
      const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.append(td);
    }
    const td = document.createElement("td");
    td.append(button("Replay", "", () => act("replay " + d.id, "/dead-letters/replay", {ids: [d.id]})), " ",
              button("Purge", "danger", () => act("purge " + d.id, "/dead-letters/purge", {ids: [d.id]})));
    tr.append(td); tb.append(tr);
  }
  if (!page.items.length) { const tr = document.createElement("tr"); const td = document.createElement("td");
    td.colSpan = 6; td.textContent = "no dead letters"; tr.append(td); tb.append(tr); }
  else if (page.more) { const tr = document.createElement("tr"); const td = document.createElement("td");
    td.colSpan = 6; td.textContent = "the oldest 50 of " + fmtCount(page.total) + " (ferry dead-letters list shows the rest)"; tr.append(td); tb.append(tr); }
}
// "Purge all" asks twice, without a dialog: the first click arms it for five seconds.
let armed = 0;
$("purge_all").addEventListener("click", () => {
  if (Date.now() - armed > 5000) { armed = Date.now(); notice("click Purge all again to delete every dead letter for good", true); return; }
  armed = 0; act("purge all", "/dead-letters/purge", {all: true});
});
$("replay_all").addEventListener("click", () => act("replay all", "/dead-letters/replay", {all: true}));
async function refreshStatus() {
  renderStatus(await getJson("/status"));
  const r = await fetch("/readyz", {cache: "no-store"}), why = (await r.text()).trim();
  const badge = $("ready"); badge.textContent = r.ok ? "ready" : "not ready"; badge.className = "badge " + (r.ok ? "ok" : "bad");
  set("ready_why", why);
}
let busy = false;
async function refreshAll() {
  if (busy) return; busy = true;
  try {
    await Promise.all([refreshStatus(), refreshHistory(), refreshDeadLetters()]);
    set("updated", "updated " + new Date().toLocaleTimeString());
    document.body.dataset.refreshes = Number(document.body.dataset.refreshes) + 1;
  } catch (e) { set("updated", "cannot reach the agent: " + e.message); }
  finally { busy = false; }
}
refreshAll();
setInterval(refreshAll, 2000);
</script>
</body>
</html>
)ferry_page";
// clang-format on

}  // namespace

std::string_view StatusPageHtml() { return kPage; }

}  // namespace ferry::agent

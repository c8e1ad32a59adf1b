#include "observe/status_page.h"

namespace stratus::observe {

namespace {

// The JSON it reads: {"host": {"command", "uptime_seconds", "requests"},
// "workloads": [{"id", "state", "message", "components": [{"name",
// "instances_made", "live", "pooled", "invocations", "traps"}], "routes":
// [{"route", "requests_per_second", "p99_ms", "requests_last_minute"}]}]}.
constexpr std::string_view kHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>stratus status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
h2 { font-size: 1.1em; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; margin: .3em 0; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: left; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.state { font-weight: bold; }
.RUNNING { color: #176317; } .ERROR { color: #a11; } .STARTING, .STOPPING { color: #8a5a00; }
#meta, #error { color: #666; }
</style>
</head>
<body>
<h1>stratus</h1>
<div id="meta">loading /status.json ...</div>
<div id="error"></div>
<div id="workloads"></div>
<script>
"use strict";
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function table(head, rows) {
  const t = el("table", {});
  t.append(el("tr", {}, ...head.map(h => el("th", {}, h))));
  for (const r of rows) t.append(el("tr", {}, ...r.map(c => typeof c === "number" ? el("td", {class: "n"}, c) : el("td", {}, c))));
  return t;
}
function fixed(x, digits) { return x === null || x === undefined ? "-" : Number(x).toFixed(digits); }
function draw(s) {
  document.getElementById("meta").textContent =
    s.host.command + " - up " + Math.round(s.host.uptime_seconds) + " s, " + s.host.requests + " requests served";
  const root = document.getElementById("workloads");
  const parts = [];
  if (s.workloads.length === 0) parts.push(el("p", {}, "No workload."));
  for (const w of s.workloads) {
    const section = el("section", {id: "workload-" + w.id});
    section.append(el("h2", {}, w.id + " ", el("span", {class: "state " + w.state}, w.state)));
    if (w.message) section.append(el("div", {}, w.message));
    section.append(table(["component", "instances made", "live", "pooled", "invocations", "traps"],
      w.components.map(c => [c.name, c.instances_made, ...[c.live, c.pooled, c.invocations, c.traps].map(
        n => n === null ? "-" : n)])));
    section.append(table(["route", "req/s (last minute)", "p99 ms (last minute)", "requests (last minute)"],
      w.routes.map(r => [r.route, fixed(r.requests_per_second, 2), r.p99_ms === null ? "-" : fixed(r.p99_ms, 2),
                         r.requests_last_minute])));
    parts.push(section);
  }
  root.replaceChildren(...parts);
}
async function refresh() {
  try {
    const r = await fetch("status.json", {cache: "no-store"});
    if (!r.ok) throw new Error("status.json: HTTP " + r.status);
    draw(await r.json());
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "cannot refresh: " + e.message;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view status_page_html() { return kHtml; }

}  // namespace stratus::observe

#include "html.hpp"

#include <string>

namespace chatload {

namespace {

// The page. The report goes into <script type="application/json" id="report">.
constexpr const char* page_head = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>chatload report</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; font-size: .9em; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
canvas { border: 1px solid #ddd; display: block; margin: .5em 0; }
.invalid { color: #b00; font-weight: bold; }
</style>
</head>
<body>
<h1>chatload report</h1>
<div id="summary"></div>
<h2>Delivery latency per second (by planned send time)</h2>
<canvas id="latency" width="960" height="320"></canvas>
<h2>Percentile curve (send&#8594;delivery)</h2>
<canvas id="curve" width="960" height="320"></canvas>
<h2>Throughput per second (wall clock)</h2>
<canvas id="throughput" width="960" height="320"></canvas>
<script type="application/json" id="report">
)";

constexpr const char* page_tail = R"(
</script>
<script>
"use strict";
const R = JSON.parse(document.getElementById("report").textContent);
const COLORS = ["#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd"];

function esc(s) { return String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c])); }
function fmt(v) { return typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : esc(v); }

function summary() {
  const c = R.config || {}, n = R.counts || {}, L = R.latency_ms || {};
  let h = "<p>" + esc(c.mode || "open") + " model, " + fmt(c.users) + " users, " + fmt(c.rooms) + " rooms &#215; " +
          fmt(c.members) + " members, " + fmt(c.rate) + " msg/s for " + fmt(c.duration_s) + " s" +
          (c.ramp_up_s ? " after a " + fmt(c.ramp_up_s) + " s ramp-up" : "") + "; elapsed " + fmt(R.elapsed_s) + " s</p>";
  if (R.validity && !R.validity.valid)
    h += "<p class=\"invalid\">INVALID RUN: " + R.validity.reasons.map(esc).join("; ") + "</p>";
  h += "<table><tr><th>latency (ms)</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>";
  for (const k of ["delivery", "receipt", "connect", "subscribe"]) {
    const x = L[k]; if (!x) continue;
    h += "<tr><td>" + k + "</td>" + ["count", "p50", "p90", "p99", "p999", "max"].map(f => "<td>" + fmt(x[f]) + "</td>").join("") + "</tr>";
  }
  h += "</table><table><tr>" + Object.keys(n).map(k => "<th>" + esc(k) + "</th>").join("") + "</tr><tr>" +
       Object.keys(n).map(k => "<td>" + fmt(n[k]) + "</td>").join("") + "</tr></table>";
  const errs = Object.entries(R.errors || {});
  if (errs.length) h += "<table><tr><th>error</th><th>count</th></tr>" + errs.map(([k, v]) => "<tr><td>" + esc(k) + "</td><td>" + v + "</td></tr>").join("") + "</table>";
  const P = R.phases || [];
  if (P.length > 1)
    h += "<table><tr><th>phase</th><th>msg/s</th><th>s</th><th>receipts/s</th><th>deliveries/s</th><th>refused</th>" +
         "<th>delivery p99 (ms)</th><th>recovery (s)</th></tr>" + P.map(p => "<tr>" + [p.index, p.rate, p.seconds,
           p.goodput.receipted_per_s, p.goodput.delivered_per_s, p.refused, p.latency_ms.delivery.p99,
           p.recovery_s === null ? "-" : p.recovery_s].map(v => "<td>" + fmt(v) + "</td>").join("") + "</tr>").join("") +
         "</table>";
  document.getElementById("summary").innerHTML = h;
}

// series: [{name, points: [[x, y], ...]}]; opts: {xlabel, ylabel, logx, xticks: [[x, label]]}
function plot(id, series, opts) {
  const cv = document.getElementById(id), g = cv.getContext("2d");
  const W = cv.width, H = cv.height, l = 70, r = 150, t = 15, b = 45;
  const tx = opts.logx ? (x => Math.log10(x)) : (x => x);
  let xs = [], ys = [0];
  for (const s of series) for (const [x, y] of s.points) { xs.push(tx(x)); ys.push(y); }
  g.font = "12px sans-serif"; g.fillStyle = "#222";
  if (!xs.length) { g.fillText("no data", W / 2 - 20, H / 2); return; }
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y1 = Math.max(...ys) * 1.05 || 1;
  if (x1 === x0) x1 = x0 + 1;
  const X = x => l + (tx(x) - x0) / (x1 - x0) * (W - l - r), Y = y => H - b - y / y1 * (H - t - b);
  g.strokeStyle = "#999"; g.beginPath(); g.moveTo(l, t); g.lineTo(l, H - b); g.lineTo(W - r, H - b); g.stroke();
  g.textAlign = "right";
  for (let i = 0; i <= 5; ++i) {
    const y = y1 * i / 5; g.fillText(y < 10 ? y.toFixed(2) : y.toFixed(0), l - 5, Y(y) + 4);
    g.strokeStyle = "#eee"; g.beginPath(); g.moveTo(l, Y(y)); g.lineTo(W - r, Y(y)); g.stroke();
  }
  g.textAlign = "center";
  const ticks = opts.xticks || Array.from({length: 6}, (_, i) => { const v = x0 + (x1 - x0) * i / 5; return [v, v.toFixed(0)]; });
  for (const [x, label] of ticks) if (tx(x) >= x0 - 1e-9 && tx(x) <= x1 + 1e-9) g.fillText(label, X(x), H - b + 16);
  g.fillText(opts.xlabel, l + (W - l - r) / 2, H - 8);
  g.save(); g.translate(14, t + (H - t - b) / 2); g.rotate(-Math.PI / 2); g.fillText(opts.ylabel, 0, 0); g.restore();
  series.forEach((s, i) => {
    g.strokeStyle = COLORS[i % COLORS.length]; g.lineWidth = 1.5; g.beginPath();
    s.points.forEach(([x, y], k) => k ? g.lineTo(X(x), Y(y)) : g.moveTo(X(x), Y(y)));
    g.stroke();
    g.fillStyle = COLORS[i % COLORS.length]; g.textAlign = "left";
    g.fillRect(W - r + 15, t + 10 + i * 18, 12, 3); g.fillText(s.name, W - r + 32, t + 15 + i * 18);
  });
  g.fillStyle = "#222";
}

summary();
const ps = R.per_second || [];
plot("latency", ["p50_ms", "p90_ms", "p99_ms", "max_ms"].map(k => ({
  name: k.replace("_ms", ""), points: ps.filter(s => s.delivered > 0).map(s => [s.second, s[k]])})),
  {xlabel: "second of the schedule", ylabel: "ms"});
const curve = (R.percentile_curve || []).filter(p => p.percentile < 1);
plot("curve", [{name: "delivery", points: curve.map(p => [1 / (1 - p.percentile), p.value_ms])}],
  {xlabel: "percentile", ylabel: "ms", logx: true,
   xticks: [[1, "0%"], [10, "90%"], [100, "99%"], [1000, "99.9%"], [1e4, "99.99%"], [1e5, "99.999%"], [1e6, "99.9999%"]]});
const tl = R.timeline || [];
const rate = (k) => tl.map((p, i) => [p.t, i ? (p[k] - tl[i - 1][k]) / Math.max(p.t - tl[i - 1].t, 1e-3) : p[k] / Math.max(p.t, 1e-3)]);
plot("throughput", [{name: "sent/s", points: rate("sent")}, {name: "delivered/s", points: rate("delivered")}],
  {xlabel: "seconds since the first planned send", ylabel: "messages/s"});
</script>
</body>
</html>
)";

}  // namespace

void write_html(std::ostream& out, const nlohmann::json& report) {
  // '<' only occurs inside JSON strings; as \u003c it cannot end the script element early.
  const std::string data = report.dump();
  std::string safe;
  safe.reserve(data.size());
  for (char c : data) {
    if (c == '<')
      safe += "\\u003c";
    else
      safe += c;
  }
  out << page_head << safe << page_tail;
}

}  // namespace chatload

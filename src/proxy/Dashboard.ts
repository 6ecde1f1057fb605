/**
 * The admin dashboard at `/`: one page whose inline script polls `admin/metrics.json` every second
 * and draws, per router and per client, live charts (inline SVG, the last 60 samples) of the
 * request rate, the success rate and the p50/p95/p99 latency, with tables of what an operator
 * checks first in an incident: per client its endpoints (balancer size, available, busy), failure
 * accrual removals, retries and retry budget; per service its retries and budget. A shutdown button
 * is shown when control requests are enabled; it sends what the admin server asks of a state
 * change: a POST with `Content-Type: application/json` (see `AdminSecurity`).
 *
 * Every chart is an `<svg data-chart="…">` whose `data-samples` counts the samples drawn and whose
 * `<polyline>`s hold them, so a test (or a curious operator) can watch them move.
 *
 * @since 0.1.0
 */
import * as AdminPage from "./AdminPage.js"

const script = `
const history = {};
const last = {};
const keep = 60;
const push = (key, v) => { const h = (history[key] ??= []); h.push(v); if (h.length > keep) h.shift(); return h; };
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
const metricsOf = (m) => {
  const routers = {};
  for (const k of Object.keys(m)) {
    const parts = k.split("/");
    if (parts[0] !== "rt" || parts.length < 4) continue;
    const r = (routers[parts[1]] ??= { server: {}, service: {}, client: {} });
    const kind = parts[2];
    if (!(kind in r)) continue;
    const rest = parts.slice(3).join("/");
    const metric = ["requests", "success", "failures", "request_latency_ms.p50", "request_latency_ms.p95",
      "request_latency_ms.p99", "loadbalancer/size", "loadbalancer/available", "loadbalancer/busy",
      "failure_accrual/removals", "retries/total", "retries/requeues", "retries/budget", "retries/budget_exhausted",
      "pending"].find((s) => rest.endsWith("/" + s));
    if (metric === undefined) continue;
    const id = rest.slice(0, rest.length - metric.length - 1);
    if (kind === "client" && id.includes("/service/")) continue;
    (r[kind][id] ??= {})[metric] = m[k];
  }
  return routers;
};
const sum = (objs, k) => objs.reduce((a, o) => a + (o[k] ?? 0), 0);
const worst = (objs, k) => objs.reduce((a, o) => (typeof o[k] === "number" && (a === null || o[k] > a) ? o[k] : a), null);
// Per-second rate and interval success rate from two cumulative samples.
const sample = (key, v, now) => {
  const prev = last[key];
  last[key] = { req: v.requests ?? 0, s: v.success ?? 0, f: v.failures ?? 0, t: now };
  if (prev === undefined) return;
  const dt = (now - prev.t) / 1000;
  if (dt <= 0) return;
  const ds = Math.max(0, (v.success ?? 0) - prev.s), df = Math.max(0, (v.failures ?? 0) - prev.f);
  push(key + ":rate", Math.max(0, ((v.requests ?? 0) - prev.req) / dt));
  push(key + ":success", ds + df === 0 ? null : (100 * ds) / (ds + df));
  for (const p of ["p50", "p95", "p99"]) push(key + ":" + p, v["request_latency_ms." + p] ?? null);
};
const colors = { rate: "#0b5394", success: "#38761d", p50: "#6aa84f", p95: "#e69138", p99: "#cc0000" };
const chart = (id, title, series, unit, fixedMax) => {
  const w = 260, h = 70;
  const all = series.flatMap((s) => (history[s.key] ?? []).filter((v) => v !== null));
  const max = fixedMax ?? Math.max(1, ...all) * 1.1;
  const n = Math.max(0, ...series.map((s) => (history[s.key] ?? []).length));
  const lines = series.map((s) => {
    const h0 = history[s.key] ?? [];
    const pts = h0.map((v, i) => v === null ? null : (w * (i + keep - h0.length) / (keep - 1)).toFixed(1) + "," +
      (h - (h * v) / max).toFixed(1)).filter((p) => p !== null).join(" ");
    return '<polyline data-series="' + s.name + '" fill="none" stroke="' + colors[s.name] + '" stroke-width="1.5" points="' + pts + '"/>';
  }).join("");
  const now = series.map((s) => { const h0 = history[s.key] ?? []; const v = h0[h0.length - 1];
    return s.name + " " + (v === null || v === undefined ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(1)); }).join(" · ");
  return '<figure><figcaption>' + title + ' <span class="muted">' + now + " " + unit + '</span></figcaption>' +
    '<svg data-chart="' + esc(id) + '" data-samples="' + n + '" width="' + w + '" height="' + h + '" viewBox="0 0 ' +
    w + " " + h + '"><rect width="' + w + '" height="' + h + '" fill="#fff" stroke="#ddd"/>' +
    '<text x="3" y="10" font-size="9" fill="#999">' + (max >= 10 ? max.toFixed(0) : max.toFixed(1)) + "</text>" +
    lines + "</svg></figure>";
};
const charts = (key) => '<div class="charts">' +
  chart(key + ":rate", "requests/s", [{ key: key + ":rate", name: "rate" }], "rps") +
  chart(key + ":success", "success rate", [{ key: key + ":success", name: "success" }], "%", 100) +
  chart(key + ":latency", "latency", ["p50", "p95", "p99"].map((p) => ({ key: key + ":" + p, name: p })), "ms") +
  "</div>";
const fmt = (v) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : "-");
const ratio = (s, f) => (s + f === 0 ? "-" : ((100 * s) / (s + f)).toFixed(2) + "%");
const rateNow = (key) => { const h0 = history[key + ":rate"] ?? []; return h0.length === 0 ? "-" : h0[h0.length - 1].toFixed(1); };
const table = (caption, head, rows) => rows.length === 0 ? "" : '<table><caption>' + caption + "</caption><tr>" +
  head.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr>" +
  rows.map((r) => "<tr>" + r.map((c) => "<td>" + esc(c) + "</td>").join("") + "</tr>").join("") + "</table>";
const render = (m) => {
  const now = Date.now();
  const routers = metricsOf(m);
  let html = "";
  for (const name of Object.keys(routers).sort()) {
    const r = routers[name];
    const servers = Object.values(r.server);
    const agg = { requests: sum(servers, "requests"), success: sum(servers, "success"), failures: sum(servers, "failures") };
    for (const p of ["p50", "p95", "p99"]) agg["request_latency_ms." + p] = worst(servers, "request_latency_ms." + p);
    const rk = "router:" + name;
    sample(rk, agg, now);
    html += '<section class="router" data-router="' + esc(name) + '"><h2>router ' + esc(name) + "</h2>";
    html += '<p class="muted">' + agg.requests + " requests · " + ratio(agg.success, agg.failures) + " success · " +
      sum(servers, "pending") + " pending</p>" + charts(rk);
    const clients = Object.keys(r.client).sort();
    for (const id of clients) {
      const ck = "client:" + name + ":" + id;
      sample(ck, r.client[id], now);
      html += '<h3 class="client">client <code>' + esc(id) + "</code></h3>" + charts(ck);
    }
    html += table("clients", ["client", "requests", "req/s", "success", "p50", "p95", "p99", "endpoints", "available",
      "busy", "removals", "requeues", "retry budget", "pending"], clients.map((id) => {
      const v = r.client[id];
      return [id, v.requests ?? 0, rateNow("client:" + name + ":" + id), ratio(v.success ?? 0, v.failures ?? 0),
        fmt(v["request_latency_ms.p50"]), fmt(v["request_latency_ms.p95"]), fmt(v["request_latency_ms.p99"]),
        fmt(v["loadbalancer/size"]), fmt(v["loadbalancer/available"]), fmt(v["loadbalancer/busy"]),
        fmt(v["failure_accrual/removals"]), fmt(v["retries/requeues"]), fmt(v["retries/budget"]), fmt(v.pending)];
    }));
    html += table("services", ["service", "requests", "success", "p99", "retries", "retry budget", "budget exhausted"],
      Object.keys(r.service).sort().map((id) => {
        const v = r.service[id];
        return [id, v.requests ?? 0, ratio(v.success ?? 0, v.failures ?? 0), fmt(v["request_latency_ms.p99"]),
          fmt(v["retries/total"]), fmt(v["retries/budget"]), fmt(v["retries/budget_exhausted"])];
      }));
    html += table("servers", ["server", "requests", "success", "p99", "pending"], Object.keys(r.server).sort().map((id) => {
      const v = r.server[id];
      return [id, v.requests ?? 0, ratio(v.success ?? 0, v.failures ?? 0), fmt(v["request_latency_ms.p99"]), fmt(v.pending)];
    }));
    html += "</section>";
  }
  document.getElementById("routers").innerHTML = html || "<p>No traffic yet.</p>";
  document.getElementById("updated").textContent = new Date(now).toLocaleTimeString();
};
const poll = () => fetch("admin/metrics.json").then((r) => r.json()).then(render)
  .catch((e) => { document.getElementById("updated").textContent = "error: " + e; });
poll();
setInterval(poll, 1000);
`

const shutdownScript = `
const shutdown = () => {
  if (!confirm("Shut this weir down? Requests in flight finish first.")) return;
  fetch("admin/shutdown", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
    .then((r) => r.text())
    .then((t) => { document.getElementById("updated").textContent = t; })
    .catch((e) => { document.getElementById("updated").textContent = "error: " + e; });
};
document.getElementById("shutdown").addEventListener("click", shutdown);
`

const css = `
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; } figcaption { font-size: 0.85em; }
h3.client { font-size: 1em; margin: 0.8em 0 0.2em; font-weight: normal; }
section.router { border-top: 1px solid #ddd; }
`

/**
 * What the dashboard offers besides metrics.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Show the shutdown button (when `/admin/shutdown` is served). Defaults to `false`. */
  readonly shutdown?: boolean | undefined
}

/**
 * The dashboard page, naming the configured routers.
 *
 * @since 0.1.0
 * @category rendering
 */
export const dashboardHtml = (routers: ReadonlyArray<string>, options?: Options): string =>
  AdminPage.render({
    title: "dashboard",
    section: "dashboard",
    css,
    body: `<p>Routers: ${
      routers.map(AdminPage.escapeHtml).join(", ") || "none"
    } · updated <span id="updated">never</span>
${options?.shutdown === true ? ` · <button id="shutdown" type="button">shut down</button>` : ""}</p>
<div id="routers"></div>`,
    script: script + (options?.shutdown === true ? shutdownScript : "")
  })

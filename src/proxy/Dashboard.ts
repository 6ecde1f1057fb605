/**
 * The admin dashboard at `/`: one static HTML page whose script polls `admin/metrics.json` every
 * second and shows, per router, its servers, services and clients (requests, success rate,
 * failures, p99 latency, balancer size and available nodes), and a shutdown button when control
 * requests are enabled. The button sends what the admin server asks of a state change: a POST with
 * `Content-Type: application/json` (see `AdminSecurity`).
 *
 * @since 0.1.0
 */

const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const script = `
const seen = {};
const byRouter = (m) => {
  const routers = {};
  for (const k of Object.keys(m)) {
    const parts = k.split("/");
    if (parts[0] !== "rt" || parts.length < 4) continue;
    const r = routers[parts[1]] ??= { server: {}, service: {}, client: {} };
    const kind = parts[2];
    if (!(kind in r)) continue;
    const rest = parts.slice(3).join("/");
    const metric = ["requests", "success", "failures", "request_latency_ms.p99", "loadbalancer/size",
      "loadbalancer/available", "retries/total", "connections"].find((s) => rest.endsWith("/" + s));
    if (metric === undefined) continue;
    const id = rest.slice(0, rest.length - metric.length - 1);
    if (kind === "client" && id.includes("/service/")) continue;
    (r[kind][id] ??= {})[metric] = m[k];
  }
  return routers;
};
const ms = (v) => (typeof v === "number" ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "-");
const rate = (s, f) => (s + f === 0 ? "-" : (100 * s / (s + f)).toFixed(2) + "%");
const rps = (key, n) => {
  const prev = seen[key];
  seen[key] = { n, t: Date.now() };
  if (prev === undefined) return "-";
  const dt = (Date.now() - prev.t) / 1000;
  return dt > 0 ? ((n - prev.n) / dt).toFixed(1) : "-";
};
const row = (cells, th) => "<tr>" + cells.map((c) => (th ? "<th>" : "<td>") + String(c)
  .replace(/&/g, "&amp;").replace(/</g, "&lt;") + (th ? "</th>" : "</td>")).join("") + "</tr>";
const render = (m) => {
  const routers = byRouter(m);
  let html = "";
  for (const [name, r] of Object.entries(routers)) {
    html += "<h2>router " + name.replace(/</g, "&lt;") + "</h2>";
    for (const kind of ["server", "service", "client"]) {
      const ids = Object.keys(r[kind]).sort();
      if (ids.length === 0) continue;
      html += "<table><caption>" + kind + "s</caption>";
      html += row([kind, "requests", "req/s", "success rate", "failures", "p99 ms",
        ...(kind === "client" ? ["lb size", "available"] : [])], true);
      for (const id of ids) {
        const v = r[kind][id];
        const req = v.requests ?? 0, s = v.success ?? 0, f = v.failures ?? 0;
        html += row([id, req, rps(name + kind + id, req), rate(s, f), f, ms(v["request_latency_ms.p99"]),
          ...(kind === "client" ? [v["loadbalancer/size"] ?? "-", v["loadbalancer/available"] ?? "-"] : [])]);
      }
      html += "</table>";
    }
  }
  document.getElementById("routers").innerHTML = html || "<p>No traffic yet.</p>";
  document.getElementById("updated").textContent = new Date().toLocaleTimeString();
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
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>weir admin</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
td:first-child, th:first-child { text-align: left; font-family: monospace; }
nav a { margin-right: 1em; }
</style>
</head>
<body>
<h1>weir</h1>
<nav>
<a href="admin/metrics.json?pretty=1">metrics.json</a>
<a href="admin/metrics/prometheus">prometheus</a>
<a href="config.json?pretty=1">config.json</a>
<a href="delegator.json">delegator.json</a>
${options?.shutdown === true ? `<button id="shutdown" type="button">shut down</button>` : ""}
</nav>
<p>Routers: ${routers.map(escapeHtml).join(", ") || "none"} · updated <span id="updated">never</span></p>
<div id="routers"></div>
<script>${script}${options?.shutdown === true ? shutdownScript : ""}</script>
</body>
</html>
`

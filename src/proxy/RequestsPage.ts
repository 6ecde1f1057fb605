/**
 * `/requests`, linkerd's recent requests page: a table of the requests the `io.l5d.recentRequests`
 * telemeter kept, newest first — when each arrived, the router, method, URI and host, the name it was
 * identified as, the client and endpoint of its last attempt, its status (or the router's `l5d-err`),
 * how long it took and how many retries it needed. The table is drawn on the server; the page's
 * script then asks `requests.json` again every two seconds and redraws it.
 *
 * Without the telemeter, `/requests` answers 404 with a page saying how to configure it.
 *
 * @since 0.1.0
 */
import type * as RecentRequests from "../telemetry/RecentRequests.js"
import * as AdminPage from "./AdminPage.js"

const columns = [
  "time",
  "router",
  "method",
  "uri",
  "host",
  "service",
  "client",
  "endpoint",
  "status",
  "duration (ms)",
  "retries"
]

const cells = (e: RecentRequests.Entry): ReadonlyArray<string> => [
  new Date(e.timestamp).toISOString(),
  e.router,
  e.method,
  e.uri,
  e.host,
  e.service ?? "",
  e.client ?? "",
  e.endpoint ?? "",
  e.error === undefined ? String(e.status) : `${e.status} ${e.error.split("\n")[0]}`,
  e.durationMs.toFixed(1),
  String(e.retries)
]

const row = (e: RecentRequests.Entry): string =>
  `<tr class="${e.status >= 500 ? "failed" : ""}">${
    cells(e).map((c) => `<td>${AdminPage.escapeHtml(c)}</td>`).join("")
  }</tr>`

const script = `
const body = document.querySelector("#requests tbody");
const table = document.getElementById("requests");
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const cells = (e) => [new Date(e.timestamp).toISOString(), e.router, e.method, e.uri, e.host, e.service ?? "",
  e.client ?? "", e.endpoint ?? "", e.error === undefined ? String(e.status) : e.status + " " + e.error.split("\\n")[0],
  e.durationMs.toFixed(1), String(e.retries)];
let refreshes = 0;
const refresh = () => fetch("requests.json").then((r) => r.json()).then((j) => {
  body.innerHTML = j.requests.map((e) =>
    '<tr class="' + (e.status >= 500 ? "failed" : "") + '">' + cells(e).map((c) => "<td>" + esc(c) + "</td>").join("") + "</tr>"
  ).join("");
  table.dataset.rows = String(j.requests.length);
  table.dataset.refreshes = String(++refreshes);
}).catch(() => {}).finally(() => setTimeout(refresh, 2000));
setTimeout(refresh, 2000);
`

const css = `
#requests th, #requests td { text-align: left; }
#requests td { font-family: monospace; font-size: 0.9em; white-space: nowrap; }
#requests tr.failed td { color: #b00020; }
`

/**
 * The `/requests` page for the kept requests.
 *
 * @since 0.1.0
 * @category rendering
 */
export const requestsHtml = (self: RecentRequests.RecentRequests): string => {
  const entries = self.entries()
  return AdminPage.render({
    title: "recent requests",
    section: "requests",
    css,
    body: `<p>The newest ${self.capacity} of the requests sampled at rate ${self.sampleRate} ` +
      `(<code>io.l5d.recentRequests</code>), newest first; also as <a href="requests.json">requests.json</a>.</p>
<table id="requests" data-rows="${entries.length}" data-refreshes="0">
<thead><tr>${columns.map((c) => `<th>${c}</th>`).join("")}</tr></thead>
<tbody>
${entries.map(row).join("\n")}
</tbody>
</table>`,
    script
  })
}

/**
 * The `/requests` page of a proxy without the telemeter: how to configure it.
 *
 * @since 0.1.0
 * @category rendering
 */
export const unconfiguredHtml = (): string =>
  AdminPage.render({
    title: "recent requests",
    section: "requests",
    body: `<p class="muted">No recent requests are kept: add the telemeter to the config.</p>
<pre>telemetry:
- kind: io.l5d.recentRequests
  sampleRate: 1.0   # the share of requests kept
  capacity: 10      # how many (the default)</pre>`
  })

/**
 * `/logging` and `/logging.json`, as linkerd's: the page lists every known logger with its level
 * and a button per level; `GET /logging.json` answers the list, `POST /logging.json` with
 * `{"logger": "...", "level": "DEBUG"}` sets one logger's level at once. A change is a control
 * request: it passes `AdminSecurity`'s checks (same site, `Content-Type: application/json`) and
 * `admin.security.controlEnabled: false` closes `/logging.json` altogether, while the page (a
 * `ui` path, as in linkerd) still shows the levels, read-only.
 *
 * @since 0.1.0
 */
import * as AdminPage from "./AdminPage.js"
import * as Logging from "./Logging.js"

/**
 * An answer of `/logging.json`: a status and a JSON body.
 *
 * @since 0.1.0
 * @category model
 */
export interface JsonReply {
  readonly status: number
  readonly body: unknown
}

/**
 * Applies a `POST /logging.json` body (already read): `{"logger": string, "level": string}`. Answers
 * the logger's new entry, or 400 naming what is wrong.
 *
 * @since 0.1.0
 * @category handlers
 */
export const post = (logging: Logging.Logging, raw: string): JsonReply => {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return { status: 400, body: { error: "the body is not JSON: expected {\"logger\": \"...\", \"level\": \"...\"}" } }
  }
  const o = parsed as { readonly logger?: unknown; readonly level?: unknown } | null
  if (o === null || typeof o !== "object" || typeof o.logger !== "string" || typeof o.level !== "string") {
    return { status: 400, body: { error: "expected {\"logger\": \"...\", \"level\": \"...\"} with string values" } }
  }
  const level = Logging.parseLevel(o.level)
  if (level === undefined) {
    return {
      status: 400,
      body: { error: `unknown level ${JSON.stringify(o.level)}; one of ${Logging.levels.join(", ")}` }
    }
  }
  if (!Logging.isLoggerName(o.logger)) {
    return {
      status: 400,
      body: { error: `invalid logger name ${JSON.stringify(o.logger.slice(0, 200))}: 1-200 of [A-Za-z0-9_.:/#$-]` }
    }
  }
  if (!logging.set(o.logger, level)) return { status: 400, body: { error: "too many loggers" } }
  return { status: 200, body: logging.list().find((e) => e.logger === o.logger) }
}

/**
 * Answers `/logging.json` (after `AdminSecurity`'s checks): GET/HEAD the list, POST (JSON only, else
 * 415) a change, anything else 405.
 *
 * @since 0.1.0
 * @category handlers
 */
export const json = async (
  logging: Logging.Logging,
  method: string,
  contentType: string | undefined,
  body: () => Promise<string>,
  pretty: boolean
): Promise<{ status: number; contentType: string; body: string; headers?: Record<string, string> }> => {
  const reply = (status: number, value: unknown, indent = false) => ({
    status,
    contentType: "application/json; charset=utf-8",
    body: JSON.stringify(value, null, indent ? 2 : undefined)
  })
  if (method === "GET" || method === "HEAD") return reply(200, logging.list(), pretty)
  if (method !== "POST") return { ...reply(405, { error: "GET or POST" }), headers: { allow: "GET, POST" } }
  const ct = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  if (ct !== "application/json") return reply(415, { error: `Unsupported Media Type: ${ct}` })
  const answer = post(logging, await body())
  return reply(answer.status, answer.body)
}

const script = `
const status = document.getElementById("status");
document.getElementById("loggers").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-level]");
  if (b === null) return;
  const logger = b.closest("tr").dataset.logger;
  fetch("logging.json", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ logger, level: b.dataset.level }) })
    .then((r) => r.text().then((t) => ({ ok: r.ok, t })))
    .then(({ ok, t }) => {
      if (!ok) { status.textContent = t; return; }
      location.reload();
    })
    .catch((e) => { status.textContent = "error: " + e; });
});
`

const css = `
button[data-level] { font-size: 0.8em; margin: 0 0.1em; }
button.current { font-weight: bold; background: #0b5394; color: #fff; }
td.inherited { color: #777; }
`

/**
 * The `/logging` page; `canChange` is whether `/logging.json` accepts changes (control requests
 * enabled).
 *
 * @since 0.1.0
 * @category rendering
 */
export const loggingHtml = (logging: Logging.Logging, canChange: boolean): string => {
  const rows = logging.list().map((e) =>
    `<tr data-logger="${AdminPage.escapeHtml(e.logger)}" data-level="${e.level}"><td>${
      AdminPage.escapeHtml(e.logger)
    }</td><td class="${e.inherited ? "inherited" : ""}">${e.level}${e.inherited ? " (inherited)" : ""}</td>${
      canChange
        ? `<td>${
          Logging.levels.map((l) =>
            `<button type="button" data-level="${l}"${l === e.level ? ` class="current"` : ""}>${l}</button>`
          ).join("")
        }</td>`
        : ""
    }</tr>`
  ).join("\n")
  return AdminPage.render({
    title: "logging",
    section: "logging",
    css,
    body: `<p>A logger without a level of its own takes its nearest dotted ancestor's, else <code>root</code>'s.${
      canChange ? "" : " Changes are disabled (<code>admin.security.controlEnabled: false</code>)."
    }</p>
<table id="loggers"><tr><th>logger</th><th>level</th>${canChange ? "<th>set</th>" : ""}</tr>
${rows}
</table>
<p id="status" class="error"></p>`,
    script: canChange ? script : undefined
  })
}

/**
 * The dtab playground at `/delegator`, as linkerd's: pick a router (its dtab is filled in and may
 * be edited), type a path, and see how the router's interpreter delegates it — every dentry that
 * rewrote it, every alternative and weighted union, and the bound addresses at the leaves (or
 * `neg`, `fail`, an error). The page asks `/delegator.json` (a POST with a JSON body, so a dtab of
 * any length fits) and draws the tree it answers; nothing is evaluated in the browser.
 *
 * `/delegator?router=<label>` preselects a router; `&path=` fills the path and explains it at once.
 *
 * @since 0.1.0
 */
import type * as Admin from "./Admin.js"
import * as AdminPage from "./AdminPage.js"

/**
 * A router as the playground offers it: its label and its configured dtab (text).
 *
 * @since 0.1.0
 * @category model
 */
export interface RouterDtab {
  readonly label: string
  readonly dtab: string
}

/**
 * The routers and dtabs of a `/config.json` value (`routers[].label`, `routers[].dtab`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const routersOf = (config: unknown): ReadonlyArray<RouterDtab> => {
  const routers = (config as { readonly routers?: unknown } | undefined)?.routers
  if (!Array.isArray(routers)) return []
  return routers.flatMap((r: unknown) => {
    const o = r as { readonly label?: unknown; readonly dtab?: unknown } | null
    return o !== null && typeof o === "object" && typeof o.label === "string"
      ? [{ label: o.label, dtab: typeof o.dtab === "string" ? o.dtab : "" }]
      : []
  })
}

const plain = (status: number, body: string): Admin.Reply => ({
  status,
  contentType: "text/plain; charset=utf-8",
  body
})

/**
 * Reads a `/delegator.json` request: from the query (`namespace`, `dtab`, `path`) of a GET/HEAD, or
 * from the JSON body of a POST (`Content-Type: application/json`, else 415). A malformed body
 * answers 400, another method 405.
 *
 * @since 0.1.0
 * @category parsing
 */
export const readRequest = async (
  method: string,
  q: URLSearchParams,
  contentType: string | undefined,
  body: () => Promise<string>
): Promise<Admin.DelegateRequest | Admin.Reply> => {
  if (method === "GET" || method === "HEAD") {
    return { namespace: q.get("namespace") ?? undefined, dtab: q.get("dtab") ?? "", path: q.get("path") ?? "" }
  }
  if (method !== "POST") return plain(405, "Method Not Allowed\n")
  const ct = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  if (ct !== "application/json") return plain(415, `Unsupported Media Type: ${ct}\n`)
  const raw = await body()
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return plain(400, `Malformed delegation request: ${raw}\n`)
  }
  const o = parsed as Record<string, unknown>
  if (
    typeof parsed !== "object" || parsed === null || typeof o.dtab !== "string" || typeof o.path !== "string" ||
    (o.namespace !== undefined && o.namespace !== null && typeof o.namespace !== "string")
  ) {
    return plain(400, `Malformed delegation request: ${raw}\n`)
  }
  return { namespace: typeof o.namespace === "string" ? o.namespace : undefined, dtab: o.dtab, path: o.path }
}

const script = `
const form = document.getElementById("delegate");
const routerEl = document.getElementById("router"), dtabEl = document.getElementById("dtab"), pathEl = document.getElementById("path");
const out = document.getElementById("tree");
const pretty = (dtab) => dtab.split(";").map((d) => d.trim()).filter((d) => d !== "").join(";\\n");
const fill = () => { const r = routers.find((x) => x.label === routerEl.value); dtabEl.value = r === undefined ? "" : pretty(r.dtab); };
const text = (s) => document.createTextNode(String(s));
const el = (tag, cls, ...children) => { const e = document.createElement(tag); if (cls) e.className = cls; e.append(...children); return e; };
const addrText = (a) => a === null || typeof a !== "object" ? String(a) : a.type === "bound"
  ? "bound: " + (a.addrs ?? []).map((x) => x.ip + ":" + x.port).join(", ") : JSON.stringify(a);
const node = (t) => {
  const li = el("li", "node " + t.type);
  const head = el("div", "head", el("span", "type", text(t.type)), text(" "), el("code", "path", text(t.path ?? "")));
  if (t.dentry) head.append(text(" "), el("span", "dentry", text("by " + t.dentry.prefix + " => " + t.dentry.dst)));
  if (t.type === "leaf" && t.bound) head.append(text(" → "), el("code", "bound", text(t.bound.id)),
    text(" "), el("span", "addr", text(addrText(t.bound.addr))));
  if (t.type === "exception") head.append(text(" "), el("span", "error", text(t.message)));
  li.append(head);
  const kids = [];
  if (t.delegate) kids.push(t.delegate);
  if (t.tree) kids.push(t.tree);
  if (Array.isArray(t.alt)) kids.push(...t.alt);
  if (Array.isArray(t.union)) for (const u of t.union) kids.push({ ...u.tree, path: u.weight + " × " + (u.tree.path ?? "") });
  if (kids.length > 0) li.append(el("ul", "", ...kids.map(node)));
  return li;
};
let runs = 0;
const explain = (ev) => {
  if (ev) ev.preventDefault();
  out.replaceChildren(text("…"));
  const body = JSON.stringify({ namespace: routerEl.value || undefined, dtab: dtabEl.value, path: pathEl.value });
  fetch("delegator.json", { method: "POST", headers: { "content-type": "application/json" }, body })
    .then((r) => r.text().then((t) => ({ ok: r.ok, t })))
    .then(({ ok, t }) => {
      if (!ok) out.replaceChildren(el("p", "error", text(t)));
      else out.replaceChildren(el("ul", "tree", node(JSON.parse(t))));
    })
    .catch((e) => out.replaceChildren(el("p", "error", text("error: " + e))))
    .finally(() => { out.dataset.explained = pathEl.value; out.dataset.runs = String(++runs); });
};
routerEl.addEventListener("change", fill);
form.addEventListener("submit", explain);
const params = new URLSearchParams(location.search);
if (params.get("router") !== null) routerEl.value = params.get("router");
fill();
if (params.get("path") !== null) { pathEl.value = params.get("path"); explain(); }
`

const css = `
form { display: grid; grid-template-columns: max-content 1fr; gap: 0.5em 1em; max-width: 60em; align-items: start; }
textarea { width: 100%; min-height: 6em; } input[type=text] { width: 100%; }
ul.tree, ul.tree ul { list-style: none; padding-left: 1.4em; border-left: 1px dotted #bbb; }
ul.tree { border-left: none; padding-left: 0; }
li.node .type { display: inline-block; min-width: 5em; font-size: 0.8em; text-transform: uppercase; color: #555; }
li.leaf > .head .type { color: #38761d; font-weight: bold; } li.neg > .head .type, li.fail > .head .type { color: #b00020; }
.dentry { color: #777; font-size: 0.9em; } .addr { color: #0b5394; }
#tree { margin-top: 1.2em; font-size: 0.95em; line-height: 1.6; }
`

/**
 * The playground page.
 *
 * @since 0.1.0
 * @category rendering
 */
export const delegatorHtml = (routers: ReadonlyArray<RouterDtab>): string =>
  AdminPage.render({
    title: "dtab playground",
    section: "delegator",
    css,
    body: `<form id="delegate">
<label for="router">router</label>
<select id="router" name="router">
${
      routers.map((r) => `<option value="${AdminPage.escapeHtml(r.label)}">${AdminPage.escapeHtml(r.label)}</option>`)
        .join("\n")
    }
<option value="">(none: system namers only)</option>
</select>
<label for="dtab">dtab</label>
<textarea id="dtab" name="dtab" spellcheck="false"></textarea>
<label for="path">path</label>
<input id="path" name="path" type="text" placeholder="/svc/name" spellcheck="false">
<span></span>
<button id="go" type="submit">delegate</button>
</form>
<div id="tree" aria-live="polite"></div>`,
    script: `const routers = ${AdminPage.scriptJson(routers)};\n${script}`
  })

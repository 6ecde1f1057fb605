/**
 * The frame every admin page shares: one HTML document with its style and script inline and a
 * navigation bar (dashboard, dtab playground, logging, recent requests, server info, metrics, config). Nothing is
 * fetched from anywhere but the admin server itself, and links are relative, so the pages work
 * behind a path-rewriting proxy too.
 *
 * @since 0.1.0
 */

/**
 * Escapes text for HTML element content and double-quoted attributes.
 *
 * @since 0.1.0
 * @category rendering
 */
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/**
 * Text for inside an inline `<script>`: JSON whose `<` are escaped so that no `</script>` closes it.
 *
 * @since 0.1.0
 * @category rendering
 */
export const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c")

const style = `
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0 0 0.4em; } h2 { font-size: 1.15em; margin: 1.2em 0 0.4em; }
nav { margin-bottom: 1em; padding-bottom: 0.5em; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1em; color: #0b5394; text-decoration: none; } nav a.here { font-weight: bold; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; background: #fff; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
td:first-child, th:first-child { text-align: left; font-family: monospace; }
.muted { color: #777; } .error { color: #b00020; white-space: pre-wrap; }
input[type=text], textarea, select { font-family: monospace; font-size: 0.95em; }
button { font-size: 0.95em; }
`

/**
 * The navigation targets.
 *
 * @since 0.1.0
 * @category model
 */
export type Section = "dashboard" | "delegator" | "logging" | "requests"

/**
 * A whole admin page: `title`, its own extra `css`, `body` (HTML) and `script` (JavaScript).
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (options: {
  readonly title: string
  readonly section: Section
  readonly body: string
  readonly script?: string | undefined
  readonly css?: string | undefined
}): string => {
  const link = (href: string, label: string, section?: Section) =>
    `<a href="${href}"${section === options.section ? ` class="here"` : ""}>${label}</a>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)}</title>
<style>${style}${options.css ?? ""}</style>
</head>
<body>
<h1>weir · ${escapeHtml(options.title)}</h1>
<nav>
${link("./", "dashboard", "dashboard")}
${link("delegator", "dtab playground", "delegator")}
${link("logging", "logging", "logging")}
${link("requests", "requests", "requests")}
${link("admin/server_info", "server info")}
${link("admin/metrics.json?pretty=1", "metrics.json")}
${link("admin/metrics/prometheus", "prometheus")}
${link("config.json?pretty=1", "config.json")}
${link("admin/registry.json", "registry.json")}
</nav>
${options.body}
${options.script === undefined ? "" : `<script>${options.script}</script>`}
</body>
</html>
`
}

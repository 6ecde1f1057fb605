/**
 * A fake Kubernetes API server for the Endpoints, Service and Ingress resources, on 127.0.0.1, following
 * the API's list+watch semantics:
 *
 * - `GET /api/v1/namespaces/<ns>/{endpoints,services}[?fieldSelector=metadata.name=<n>][&labelSelector=<k>=<v>]`
 *   lists the matching objects with the list's `metadata.resourceVersion`;
 * - `GET /apis/networking.k8s.io/v1[/namespaces/<ns>]/ingresses` lists the Ingresses of one namespace
 *   (or of all), with the same watch parameters;
 * - `…&watch=true&resourceVersion=<rv>[&allowWatchBookmarks=true]` streams newline-delimited JSON
 *   events after `rv` (`ADDED`/`MODIFIED`/`DELETED`, and `BOOKMARK` when allowed); an `rv` older
 *   than the compacted history gets one `ERROR` event carrying a 410 (Gone) `Status`, then the
 *   stream ends; `rv` `0` or absent starts with synthetic `ADDED` events for the current objects;
 * - an object moving out of a label selector is `DELETED` for that watch, into it `ADDED`;
 * - every change bumps one global resource version, as etcd does.
 *
 * Test hooks: close all watches (as an API server may at any time), compact the history, send a
 * bookmark or a raw line, answer lists with garbage or with an error status.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"

/** An Endpoints object as stored. */
export interface EndpointsSpec {
  readonly ready?: ReadonlyArray<string>
  readonly notReady?: ReadonlyArray<string>
  readonly ports: ReadonlyArray<{ readonly name?: string; readonly port: number }>
  readonly labels?: Readonly<Record<string, string>>
  /** The `nodeName` of ready addresses, by IP; defaults to `node-1` for every ready address. */
  readonly nodeNames?: Readonly<Record<string, string>>
}

/** A Service object as stored: its ports and its load balancer's ingress points. */
export interface ServiceSpec {
  readonly ports: ReadonlyArray<{ readonly name?: string; readonly port: number }>
  readonly ingress?: ReadonlyArray<{ readonly ip?: string; readonly hostname?: string }>
  readonly labels?: Readonly<Record<string, string>>
}

interface Stored {
  readonly resource: "endpoints" | "services" | "ingresses"
  readonly namespace: string
  readonly name: string
  readonly json: Record<string, unknown>
  readonly labels: Readonly<Record<string, string>>
}

interface HistoryEntry {
  readonly rv: number
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly before: Stored | undefined
  readonly after: Stored
}

interface Watcher {
  readonly res: http.ServerResponse
  readonly matches: (s: Stored) => boolean
  readonly bookmarks: boolean
}

/** A recorded request. */
export interface Request {
  readonly url: string
  readonly authorization: string | undefined
}

/** The fake server. */
export interface FakeK8s {
  readonly port: number
  readonly requests: Array<Request>
  /** Creates or replaces an Endpoints object. */
  readonly set: (namespace: string, name: string, spec: EndpointsSpec) => void
  /** Deletes an Endpoints (or Service, or Ingress) object (no-op when absent). */
  readonly remove: (namespace: string, name: string, resource?: "endpoints" | "services" | "ingresses") => void
  /**
   * Creates or replaces a `networking.k8s.io/v1` Ingress: `spec` and `annotations` are stored as
   * given (any shape, so tests can send the older `extensions/v1beta1` fields too).
   */
  readonly setIngress: (
    namespace: string,
    name: string,
    spec: unknown,
    annotations?: Readonly<Record<string, string>>
  ) => void
  /** Creates or replaces a Service object (`type: LoadBalancer`). */
  readonly setService: (namespace: string, name: string, spec: ServiceSpec) => void
  /** Sends a `BOOKMARK` at the current resource version to watches that allow bookmarks. */
  readonly bookmark: () => void
  /** Ends every open watch stream. */
  readonly closeWatches: () => void
  /** Forgets the history: watches from older versions get 410 Gone. */
  readonly compact: () => void
  /** Writes a raw line to every open watch. */
  readonly sendRaw: (line: string) => void
  /** What lists answer: normal, garbage text, or an error status. */
  mode: "ok" | "garbage" | { readonly status: number }
  readonly resourceVersion: () => number
  readonly openWatches: () => number
  /** Stops listening and drops every connection, keeping the objects and history (an API server restart). */
  readonly stop: () => Promise<void>
  /** Listens again on the same port. */
  readonly resume: () => Promise<void>
  readonly close: () => Promise<void>
}

const statusJson = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code
})

/**
 * A self-signed certificate for 127.0.0.1 and localhost (CN `fake-kube-apiserver`), made for these
 * tests only: it protects nothing.
 */
export const tlsKey = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCtt60xdrlSuH06
WWl+YiWgWg2uJtGf6KQ3qUIPR9k5rAY0Fz1awi6cWoL0mWWshQcHfTSZV2PmVpfQ
5bdqzv6/IvHpg3KNfz9U1uMajIAF3ZZsY9qHVO6NozPS0C+rzLmBhAqQ25ta7/aH
FlBlhkN2Xi/cQXZ2tWeW9qM0RLsL2HLuyJC1UvPp0P/Jh9UXRygseKCXlyETPOGv
Df/RdylBMQj8TZPxATIQq97osAnLoShxpwLuX5G8i9EOJtpgvl8JZ4b5eBB8C4dI
IM+DYm2Q1xFUX3TLYyymyZZI+Wic8BbLjUyafkAr5hVKME75cFc564rNdJunQYMg
khocLthRAgMBAAECggEAVsoyAsjsjPn0Qr8iGAzj/ImRVSU6zNgXl2F+ShEc45Xg
4YyM0De8vsvvqlGrPPaXTPQOX+AL3qv7nFfwe7HgD1FfqElOZYgh9XqIqx5v5b5P
5WY76yoRJv1XKmdtsbkOIzl7Z+T36IaD1fjdgOOD9/LVmYaxL1yxXPhrEHWYN7GA
G3JD8MP6+wylk3ICwuMq+1g4hIPB0tj0/75/chj+pq3t6Zm/Deenpz8fATUIavd7
iX9W1XBLzUlCVtPo6AspP4abtEpzJHknErNIOEXGyq60FOo0nCH+3Wlsu5Wmfn2v
opVCtEIisDpy5kk5yR/GC3bec7r3u1wDzR7Lq/KKUwKBgQDnIl4Inapq/MvNYa4n
5urDI7yB3WDbw1CzyYGQO4dxTnIQnOBde8q66QSgRuvFnFgf3mrFKSkaI41eMYSv
VNIuAitzvyraM3mPdphFqWylDFHKWBN1FGDmxMUa8Q0Iz91YpIMXL+TJVh+XauB8
mPJY99Y42+xBCuIwsXK/VSiK4wKBgQDAaADIQGDOJMALYOQd2wKIZMEL/AHUMC1L
LPqsKtB/Oxk5K0aBb9j6af/pyzVye4Jq/+IiKCfrN9z58V7NKE+2RWe/d9EotATI
mWumQYJraA2dnlGzzTV8FwB1QLD6z6vmaYWpb6zLyvkQsRdc/GfvhqwoKQKRCI9h
r+QQYbeyOwKBgQC1P339w6WfwB0RMUgggjQWUi/AppkNvFvMoHe5YvUTJTDNVjeb
Fzgi2heGmBbLH477bq7LbTuOA9MXyj0CQMGQ0qLAYWh5M2Rf2+AMwI8x3jdFNUwM
w645SJRITD6salRo7pjd1fDS8XZUhrsC+e0RV0flzo+1cZNuG7if0We5gQKBgF3U
Wk1N1+ev1Fe4MIa+v0V0nRATHXE07WGz1asQVg017N8MU53bxZyZBMwm5TGnObqk
fsrZel4jKAhbxTeXaQgiYK3m6IFJCOwqpWy2lbt7SuiKxJ1Cfcq+DOMhYS1vCQ2c
eCpg44ueuEeDlTkrfiQ5MMuE9FN2MTYaaMX0YXjxAoGAHZOXg8YCgBSd6hYxO0eq
m7O6O4stXeHyBwTI2dYbPI96snPhPa3gcI03zKE5o5PVhUTJnpr+/ZT13wEbbsDm
AnYFo6anBcVWPjRhMaORwDvmqYcR0idMIGJZb5jGm5Lcq36hrto8axU+Z9pYc9bY
bemtq6eKn0HOcn+IdmC6xnU=
-----END PRIVATE KEY-----`

/** The certificate of `tlsKey`. */
export const tlsCert = `-----BEGIN CERTIFICATE-----
MIIDOzCCAiOgAwIBAgIUK2S5JGbVyBuCMlvxmJKYdVSZWaAwDQYJKoZIhvcNAQEL
BQAwHjEcMBoGA1UEAwwTZmFrZS1rdWJlLWFwaXNlcnZlcjAgFw0yNjExMjUyMDAx
MzNaGA8yMTI2MTEwMTIwMDEzM1owHjEcMBoGA1UEAwwTZmFrZS1rdWJlLWFwaXNl
cnZlcjCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAK23rTF2uVK4fTpZ
aX5iJaBaDa4m0Z/opDepQg9H2TmsBjQXPVrCLpxagvSZZayFBwd9NJlXY+ZWl9Dl
t2rO/r8i8emDco1/P1TW4xqMgAXdlmxj2odU7o2jM9LQL6vMuYGECpDbm1rv9ocW
UGWGQ3ZeL9xBdna1Z5b2ozREuwvYcu7IkLVS8+nQ/8mH1RdHKCx4oJeXIRM84a8N
/9F3KUExCPxNk/EBMhCr3uiwCcuhKHGnAu5fkbyL0Q4m2mC+Xwlnhvl4EHwLh0gg
z4NibZDXEVRfdMtjLKbJlkj5aJzwFsuNTJp+QCvmFUowTvlwVznris10m6dBgyCS
Ghwu2FECAwEAAaNvMG0wHQYDVR0OBBYEFLqGzxoaYNK0AUepm/pFA3KwLTnTMB8G
A1UdIwQYMBaAFLqGzxoaYNK0AUepm/pFA3KwLTnTMA8GA1UdEwEB/wQFMAMBAf8w
GgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MA0GCSqGSIb3DQEBCwUAA4IBAQCQ
MEq0tzhFJ8ktRxZn1xg3r84cWaQ2Q0rr+P2O7eSJLVltspEsXlvJX31e2I/2JT4v
JfflQQYr0gs9MxJGnnw6AtALGqPG9M5qJoeCmu6liLAwsCbtuJu7XGWczf/cE2Ms
suprd595tZ0zYwPIjGLI5+3HsHoF2W9QEpbUNQL5p/XD6GKDK7VpZrheW3b/Ailf
RwASzU/ZdLwO8fB9yZ82Y+twY1SSW3XMefFS+mkoqp4wtl5YhLkddXt6TnXYYy3A
8rxPMUahokCsIRHliPlFimTyJeB20EkTuyd3bDUbDmRS9cYIKo06iHxbnYtvpluG
/H3BrqZN7hprMAWnWwHq
-----END CERTIFICATE-----`

/**
 * Starts a fake API server on 127.0.0.1 (a free port, or `port`: only inside a network namespace of
 * its own, where nothing else listens); with `tls`, over HTTPS with `tlsCert`.
 */
export const start = async (options?: { readonly tls?: boolean; readonly port?: number }): Promise<FakeK8s> => {
  let rv = 100
  let compactedBefore = 0
  const objects = new Map<string, Stored>()
  const history: Array<HistoryEntry> = []
  const watchers = new Set<Watcher>()
  const requests: Array<Request> = []

  const build = (namespace: string, name: string, spec: EndpointsSpec, version: number): Stored => {
    const ready = spec.ready ?? []
    const notReady = spec.notReady ?? []
    const subset: Record<string, unknown> = { ports: spec.ports.map((p) => ({ ...p, protocol: "TCP" })) }
    if (ready.length > 0) subset.addresses = ready.map((ip) => ({ ip, nodeName: spec.nodeNames?.[ip] ?? "node-1" }))
    if (notReady.length > 0) subset.notReadyAddresses = notReady.map((ip) => ({ ip, nodeName: "node-2" }))
    const labels = spec.labels ?? {}
    return {
      resource: "endpoints",
      namespace,
      name,
      labels,
      json: {
        kind: "Endpoints",
        apiVersion: "v1",
        metadata: { name, namespace, resourceVersion: String(version), labels },
        subsets: ready.length + notReady.length > 0 ? [subset] : []
      }
    }
  }

  const buildService = (namespace: string, name: string, spec: ServiceSpec, version: number): Stored => {
    const labels = spec.labels ?? {}
    return {
      resource: "services",
      namespace,
      name,
      labels,
      json: {
        kind: "Service",
        apiVersion: "v1",
        metadata: { name, namespace, resourceVersion: String(version), labels },
        spec: { type: "LoadBalancer", ports: spec.ports.map((p) => ({ ...p, protocol: "TCP", targetPort: p.port })) },
        status: { loadBalancer: spec.ingress === undefined ? {} : { ingress: spec.ingress } }
      }
    }
  }

  const write = (w: Watcher, event: unknown) => w.res.write(JSON.stringify(event) + "\n")

  const deliver = (w: Watcher, e: HistoryEntry) => {
    const was = e.before !== undefined && w.matches(e.before)
    const is = w.matches(e.after)
    if (e.type === "DELETED") {
      if (was) write(w, { type: "DELETED", object: e.after.json })
    } else if (is) {
      write(w, { type: was ? "MODIFIED" : "ADDED", object: e.after.json })
    } else if (was) {
      write(w, { type: "DELETED", object: e.after.json })
    }
  }

  const record = (type: HistoryEntry["type"], before: Stored | undefined, after: Stored) => {
    const entry = { rv, type, before, after }
    history.push(entry)
    for (const w of watchers) deliver(w, entry)
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requests.push({ url: req.url ?? "", authorization: req.headers.authorization })
    const url = new URL(req.url ?? "/", "http://fake")
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(endpoints|services)$/.exec(url.pathname) ??
      /^\/apis\/networking\.k8s\.io\/v1(?:\/namespaces\/([^/]+))?\/(ingresses)$/.exec(url.pathname)
    if (req.method !== "GET" || m === null) {
      res.writeHead(404, { "content-type": "application/json" })
      return res.end(JSON.stringify(statusJson(404, "NotFound", `the server could not find ${url.pathname}`)))
    }
    const namespace = m[1] === undefined ? undefined : decodeURIComponent(m[1])
    const resource = m[2]!
    const field = url.searchParams.get("fieldSelector")
    const labelSel = url.searchParams.get("labelSelector")
    const nameIs = field?.startsWith("metadata.name=") ? field.slice("metadata.name=".length) : undefined
    const [lk, lv] = labelSel === null ? [undefined, undefined] : labelSel.split("=")
    const matches = (s: Stored) =>
      s.resource === resource && (namespace === undefined || s.namespace === namespace) &&
      (nameIs === undefined || s.name === nameIs) &&
      (lk === undefined || s.labels[lk] === lv)

    if (url.searchParams.get("watch") !== "true") {
      if (fake.mode === "garbage") {
        res.writeHead(200, { "content-type": "application/json" })
        return res.end("{\"kind\": \"EndpointsList\", \"items\": [oops")
      }
      if (typeof fake.mode === "object") {
        res.writeHead(fake.mode.status, { "content-type": "application/json" })
        return res.end(JSON.stringify(statusJson(fake.mode.status, "InternalError", "etcd is unhappy")))
      }
      res.writeHead(200, { "content-type": "application/json" })
      return res.end(JSON.stringify({
        kind: resource === "services" ? "ServiceList" : resource === "ingresses" ? "IngressList" : "EndpointsList",
        apiVersion: resource === "ingresses" ? "networking.k8s.io/v1" : "v1",
        metadata: { resourceVersion: String(rv) },
        items: [...objects.values()].filter(matches).map((s) => s.json)
      }))
    }

    const from = Number(url.searchParams.get("resourceVersion") ?? "0")
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" })
    res.flushHeaders()
    const w: Watcher = { res, matches, bookmarks: url.searchParams.get("allowWatchBookmarks") === "true" }
    if (from !== 0 && from < compactedBefore) {
      write(w, { type: "ERROR", object: statusJson(410, "Expired", `too old resource version: ${from} (${rv})`) })
      return res.end()
    }
    if (from === 0) {
      for (const s of objects.values()) if (matches(s)) write(w, { type: "ADDED", object: s.json })
    } else {
      for (const e of history) if (e.rv > from) deliver(w, e)
    }
    watchers.add(w)
    res.on("close", () => watchers.delete(w))
  }
  const server = options?.tls === true
    ? https.createServer({ key: tlsKey, cert: tlsCert }, handler)
    : http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(options?.port ?? 0, "127.0.0.1", resolve))

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const w of watchers) w.res.destroy()
      watchers.clear()
      server.close(() => resolve())
      server.closeAllConnections()
    })

  const fake: FakeK8s = {
    port: (server.address() as AddressInfo).port,
    requests,
    mode: "ok",
    set: (namespace, name, spec) => {
      rv++
      const key = `${namespace}/${name}`
      const before = objects.get(key)
      const after = build(namespace, name, spec, rv)
      objects.set(key, after)
      record(before === undefined ? "ADDED" : "MODIFIED", before, after)
    },
    setService: (namespace, name, spec) => {
      rv++
      const key = `services:${namespace}/${name}`
      const before = objects.get(key)
      const after = buildService(namespace, name, spec, rv)
      objects.set(key, after)
      record(before === undefined ? "ADDED" : "MODIFIED", before, after)
    },
    setIngress: (namespace, name, spec, annotations) => {
      rv++
      const key = `ingresses:${namespace}/${name}`
      const before = objects.get(key)
      const after: Stored = {
        resource: "ingresses",
        namespace,
        name,
        labels: {},
        json: {
          kind: "Ingress",
          apiVersion: "networking.k8s.io/v1",
          metadata: { name, namespace, resourceVersion: String(rv), ...(annotations ? { annotations } : {}) },
          spec
        }
      }
      objects.set(key, after)
      record(before === undefined ? "ADDED" : "MODIFIED", before, after)
    },
    remove: (namespace, name, resource = "endpoints") => {
      const key = resource === "endpoints" ? `${namespace}/${name}` : `${resource}:${namespace}/${name}`
      const before = objects.get(key)
      if (before === undefined) return
      rv++
      objects.delete(key)
      const json = { ...before.json, metadata: { ...(before.json.metadata as object), resourceVersion: String(rv) } }
      record("DELETED", before, { ...before, json })
    },
    bookmark: () => {
      for (const w of watchers) {
        if (w.bookmarks) {
          write(w, {
            type: "BOOKMARK",
            object: { kind: "Endpoints", apiVersion: "v1", metadata: { resourceVersion: String(rv) } }
          })
        }
      }
    },
    closeWatches: () => {
      for (const w of watchers) w.res.end()
      watchers.clear()
    },
    compact: () => {
      compactedBefore = rv
      history.length = 0
    },
    sendRaw: (line) => {
      for (const w of watchers) w.res.write(line + "\n")
    },
    resourceVersion: () => rv,
    openWatches: () => watchers.size,
    stop: () => stop(),
    resume: () => new Promise<void>((resolve) => server.listen(fake.port, "127.0.0.1", resolve)),
    close: () => server.listening ? stop() : Promise.resolve()
  }
  return fake
}

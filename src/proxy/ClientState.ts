/**
 * `/client_state.json`, as linkerd's: one entry per destination client open now, keyed by its bound
 * id, with the addresses it balances over (`addresses`, linkerd's field) and what an operator asks
 * in an incident — the balancer's kind and, per endpoint, its load and weight, requests in flight,
 * status, failure accrual state and open connections (and HTTP/2 streams).
 *
 * ```json
 * {
 *   "/$/inet/127.1/8080": {
 *     "router": "web",
 *     "balancer": "p2c",
 *     "addresses": ["127.1:8080"],
 *     "endpoints": [
 *       {"address": "127.1:8080", "weight": 1, "load": 0, "pending": 0, "status": "open",
 *        "accrual": "alive", "connections": 1}
 *     ]
 *   }
 * }
 * ```
 *
 * `accrual` is `alive`, `dead` (removed for a backoff), `probing` (the backoff ended: one request is
 * let through, or is in flight) or `none` (the client runs no failure accrual); `status` is the
 * endpoint's as the balancer sees it (`open`, `busy`, `closed`). Clients are built on a name's first
 * request and closed when idle, so a destination no request has reached yet is absent. When two
 * routers have a client of the same id, the first router's is shown; `?router=<label>` shows one
 * router's clients only.
 *
 * @since 0.1.0
 */
import type * as DstClient from "../http/DstClient.js"
import type * as FailureAccrual from "../resilience/FailureAccrual.js"

/**
 * A router as `/client_state.json` reads it: its label and its open clients.
 *
 * @since 0.1.0
 * @category model
 */
export interface Source {
  readonly label: string
  readonly clients: () => ReadonlyArray<DstClient.DstClient>
}

/**
 * One endpoint in `/client_state.json`.
 *
 * @since 0.1.0
 * @category model
 */
export interface EndpointJson {
  readonly address: string
  readonly weight: number
  readonly load: number
  readonly pending: number
  readonly status: "open" | "busy" | "closed"
  readonly accrual: "alive" | "dead" | "probing" | "none"
  readonly connections: number
  readonly streams?: number
}

/**
 * One client in `/client_state.json`.
 *
 * @since 0.1.0
 * @category model
 */
export interface ClientJson {
  readonly router: string
  readonly balancer: string
  readonly addresses: ReadonlyArray<string>
  readonly endpoints: ReadonlyArray<EndpointJson>
}

/**
 * The accrual state as `/client_state.json` names it.
 *
 * @since 0.1.0
 * @category rendering
 */
export const accrualName = (state: FailureAccrual.State | undefined): EndpointJson["accrual"] => {
  switch (state) {
    case undefined:
      return "none"
    case "Alive":
      return "alive"
    case "Dead":
      return "dead"
    case "ProbeOpen":
    case "ProbeClosed":
      return "probing"
  }
}

const round = (n: number): number => Math.round(n * 1000) / 1000

/**
 * One client's entry.
 *
 * @since 0.1.0
 * @category rendering
 */
export const clientJson = (router: string, client: DstClient.DstClient): ClientJson => {
  const inspection = client.inspect()
  return {
    router,
    balancer: inspection.balancer,
    addresses: inspection.endpoints.map((e) => e.address),
    endpoints: inspection.endpoints.map((e) => ({
      address: e.address,
      weight: e.weight,
      load: round(e.load),
      pending: e.pending,
      status: e.status === "Open" ? "open" : e.status === "Busy" ? "busy" : "closed",
      accrual: accrualName(e.accrual),
      connections: e.connections,
      ...(e.streams !== undefined ? { streams: e.streams } : {})
    }))
  }
}

/**
 * The whole document: every open client of `routers` (or of the router labelled `only`), by id.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJson = (
  routers: ReadonlyArray<Source>,
  only?: string | undefined
): Record<string, ClientJson> => {
  const out: Record<string, ClientJson> = {}
  for (const r of routers) {
    if (only !== undefined && r.label !== only) continue
    const clients = [...r.clients()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    for (const c of clients) if (!Object.hasOwn(out, c.id)) out[c.id] = clientJson(r.label, c)
  }
  return out
}

/**
 * How a router fills in `RecentRequests` for the requests its recorder samples: one place on the
 * request path of HTTP/1.1 and HTTP/2 routers alike (`Router`'s `route`), with three small hooks
 * below it. A router without a recorder installs none of them.
 *
 * - `begin` asks the recorder, when a request arrives, whether to sample it; a sampled request gets
 *   a `RecentRequests.Capture`, and `around` records its entry when the response is known.
 * - `track` ties the capture to the request as it is forwarded (once identified), by identity.
 * - `attempt` wraps each call of a destination client: for a tracked request it notes the client id
 *   and the attempt number (`Retries.Attempt`), so the entry shows the last attempt's client and
 *   the retry count.
 * - `upstreamMaker` wraps the upstream of each endpoint: for a tracked request it notes the
 *   endpoint's address.
 *
 * An unsampled request costs one random draw and, per attempt, two lookups in a `WeakMap`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { key as addressKey } from "../Address.js"
import * as Retries from "../resilience/Retries.js"
import * as RecentRequests from "../telemetry/RecentRequests.js"
import type * as DstClient from "./DstClient.js"
import * as Errors from "./Errors.js"
import * as Headers from "./Headers.js"
import type { HttpRequest, HttpResponse } from "./transport/Message.js"
import { header } from "./transport/Message.js"

/**
 * A capture for `request` arriving at router `router` when the recorder samples it, else `undefined`.
 *
 * @since 0.1.0
 * @category capturing
 */
export const begin = (
  recorder: RecentRequests.Recorder,
  router: string,
  request: HttpRequest
): RecentRequests.Capture | undefined => {
  if (!recorder.sample()) return undefined
  const headers = request.headers
  return {
    timestamp: Date.now(),
    start: performance.now(),
    router,
    method: request.method,
    uri: request.url,
    host: header(headers, "host") ?? header(headers, ":authority") ?? "",
    service: undefined,
    client: undefined,
    endpoint: undefined,
    retries: 0,
    error: undefined
  }
}

const tracked = new WeakMap<HttpRequest, RecentRequests.Capture>()

/**
 * Ties `capture` to `request`, the request the router forwards (by identity), so that `attempt`
 * and the upstreams of `upstreamMaker` fill it in.
 *
 * @since 0.1.0
 * @category capturing
 */
export const track = (request: HttpRequest, capture: RecentRequests.Capture): void => {
  tracked.set(request, capture)
}

/**
 * Routes a sampled request, then records its entry:
 * the response's status and the router's `l5d-err`, decoded (noted on the capture before an edge
 * strips it, or read from the response).
 *
 * @since 0.1.0
 * @category capturing
 */
export const around = (
  recorder: RecentRequests.Recorder,
  capture: RecentRequests.Capture,
  route: Effect.Effect<HttpResponse>
): Effect.Effect<HttpResponse> =>
  Effect.map(route, (response) => {
    const raw = capture.error ?? header(response.headers, Headers.names.err)
    const error = raw === undefined ? undefined : Errors.decodeErr(raw)
    recorder.record(RecentRequests.entryOf(capture, response.status, error, performance.now()))
    return response
  })

/**
 * Notes, for a tracked `request`, the client `id` an attempt (`call`) calls and the attempt's number.
 *
 * @since 0.1.0
 * @category capturing
 */
export const attempt = <A, E, R>(
  call: Effect.Effect<A, E, R>,
  id: string,
  request: HttpRequest
): Effect.Effect<A, E, R> => {
  const capture = tracked.get(request)
  if (capture === undefined) return call
  capture.client = id
  return Effect.withFiber((fiber) => {
    capture.retries = fiber.getRef(Retries.Attempt)
    return call
  })
}

/**
 * Wraps `make` so that each upstream notes its address on the capture of a tracked request.
 *
 * @since 0.1.0
 * @category capturing
 */
export const upstreamMaker = (make: DstClient.UpstreamMaker): DstClient.UpstreamMaker => (address, options) =>
  Effect.map(make(address, options), (upstream) => {
    const key = addressKey(address)
    const call = upstream.call
    return Object.assign(Object.create(upstream) as typeof upstream, {
      call: (request: HttpRequest) => {
        const capture = tracked.get(request)
        if (capture !== undefined) capture.endpoint = key
        return call(request)
      }
    })
  })

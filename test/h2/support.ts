import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http2 from "node:http2"
import { fileURLToPath } from "node:url"

export interface Msg {
  readonly text: string
  readonly n: number
}

const definition = protoLoader.loadSync(fileURLToPath(new URL("./echo.proto", import.meta.url)), {
  defaults: true
})
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  weir: { test: { Echo: grpc.ServiceClientConstructor } }
}
export const Echo = pkg.weir.test.Echo

export interface EchoBackend {
  readonly port: number
  readonly name: string
  /** Calls seen, by method, with their metadata. */
  readonly seen: Array<
    { readonly method: string; readonly metadata: Record<string, unknown>; readonly deadline: number }
  >
  /** Server-streaming calls the client cancelled. */
  cancelled: number
  /** How many of the next `text: "flaky"` unary calls fail with UNAVAILABLE. */
  failNext: number
  readonly kill: () => Promise<void>
}

const md = (m: grpc.Metadata) => m.getMap() as Record<string, unknown>

const deadlineOf = (call: { getDeadline(): grpc.Deadline }): number => {
  const d = call.getDeadline()
  return d instanceof Date ? d.getTime() : d
}

/**
 * A real @grpc/grpc-js Echo server on 127.0.0.1, closed with the scope. Unary answers `name:text`;
 * `text: "sleep"` never answers; `text: "unavailable"` fails with UNAVAILABLE (after `failures`
 * calls fail, the next succeed). ServerStream sends `n` messages (`n < 0`: one every 20 ms until
 * cancelled). ClientStream answers the count and the sum of `n`. Bidi echoes every message.
 */
export const echoBackend = (
  name: string,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()
): Effect.Effect<EchoBackend, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<EchoBackend>((resolve, reject) => {
        const server = new grpc.Server()
        const b: EchoBackend = {
          port: 0,
          name,
          seen: [],
          cancelled: 0,
          failNext: 0,
          kill: () =>
            new Promise<void>((done) => {
              server.forceShutdown()
              done()
            })
        }
        server.addService(Echo.service, {
          Unary: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
            b.seen.push({ method: "Unary", metadata: md(call.metadata), deadline: deadlineOf(call) })
            if (call.request.text === "sleep") return
            if (call.request.text === "flaky" && b.failNext > 0) {
              b.failNext--
              return cb({ code: grpc.status.UNAVAILABLE, details: "flaky" })
            }
            if (call.request.text === "unavailable") {
              return cb({ code: grpc.status.UNAVAILABLE, details: "try again" })
            }
            cb(null, { text: `${name}:${call.request.text}`, n: call.request.n })
          },
          ServerStream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
            b.seen.push({ method: "ServerStream", metadata: md(call.metadata), deadline: deadlineOf(call) })
            const n = call.request.n
            if (n < 0) {
              let i = 0
              const t = setInterval(() => call.write({ text: name, n: i++ }), 20)
              call.on("cancelled", () => {
                clearInterval(t)
                b.cancelled++
              })
              return
            }
            for (let i = 0; i < n; i++) call.write({ text: name, n: i })
            call.end()
          },
          ClientStream: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
            b.seen.push({ method: "ClientStream", metadata: md(call.metadata), deadline: deadlineOf(call) })
            let count = 0
            let sum = 0
            call.on("data", (m: Msg) => {
              count++
              sum += m.n
            })
            call.on("end", () => cb(null, { text: `${name}:${count}`, n: sum }))
          },
          Bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
            b.seen.push({ method: "Bidi", metadata: md(call.metadata), deadline: deadlineOf(call) })
            call.on("data", (m: Msg) => call.write({ text: `${name}:${m.text}`, n: m.n }))
            call.on("end", () => call.end())
          }
        })
        server.bindAsync("127.0.0.1:0", credentials, (err, port) => {
          if (err !== null) return reject(err)
          ;(b as { port: number }).port = port
          resolve(b)
        })
      })
    ),
    (b) => Effect.promise(() => b.kill())
  )

/**
 * An Echo client of `127.0.0.1:port` with `:authority` set to `authority` (plaintext unless
 * `credentials` are given), closed with the scope.
 */
export const echoClient = (
  port: number,
  authority: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()
): Effect.Effect<grpc.Client & EchoApi, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() =>
      new Echo(`127.0.0.1:${port}`, credentials, {
        "grpc.default_authority": authority
      }) as unknown as grpc.Client & EchoApi
    ),
    (c) => Effect.sync(() => c.close())
  )

export interface EchoApi {
  Unary(
    m: Partial<Msg>,
    md: grpc.Metadata,
    o: grpc.CallOptions,
    cb: (e: grpc.ServiceError | null, r?: Msg) => void
  ): grpc.ClientUnaryCall
  ServerStream(m: Partial<Msg>, md?: grpc.Metadata, o?: grpc.CallOptions): grpc.ClientReadableStream<Msg>
  ClientStream(
    md: grpc.Metadata,
    o: grpc.CallOptions,
    cb: (e: grpc.ServiceError | null, r?: Msg) => void
  ): grpc.ClientWritableStream<Msg>
  Bidi(md?: grpc.Metadata, o?: grpc.CallOptions): grpc.ClientDuplexStream<Msg, Msg>
}

/** A unary call's outcome: the reply, or the error's code and details. */
export const unary = (
  client: EchoApi,
  m: Partial<Msg>,
  options: grpc.CallOptions = {},
  metadata: grpc.Metadata = new grpc.Metadata()
): Effect.Effect<
  { readonly reply?: Msg; readonly code: number; readonly details?: string; readonly metadata?: grpc.Metadata }
> =>
  Effect.callback((resume) => {
    let trailers: grpc.Metadata | undefined
    const call = client.Unary(m, metadata, options, (e, r) => {
      if (e !== null) resume(Effect.succeed({ code: e.code, details: e.details, metadata: e.metadata }))
      else resume(Effect.succeed({ reply: r!, code: 0, ...(trailers !== undefined ? { metadata: trailers } : {}) }))
    })
    call.on("status", (s: grpc.StatusObject) => {
      trailers = s.metadata
    })
  })

/** Every message of a readable call and its final status code. */
export const collect = <T>(
  call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>
): Effect.Effect<{ readonly messages: Array<T>; readonly code: number }> =>
  Effect.callback((resume) => {
    const messages: Array<T> = []
    let done = false
    call.on("data", (m: T) => messages.push(m))
    call.on("error", (e: grpc.ServiceError) => {
      if (!done) {
        done = true
        resume(Effect.succeed({ messages, code: e.code }))
      }
    })
    call.on("status", (s: grpc.StatusObject) => {
      if (!done && s.code === 0) {
        done = true
        resume(Effect.succeed({ messages, code: 0 }))
      }
    })
  })

export { grpc }

export interface RawReply {
  readonly headers: http2.IncomingHttpHeaders
  readonly trailers: http2.IncomingHttpHeaders | undefined
  readonly body: Buffer
  /** The RST_STREAM code the stream closed with (0: a clean end). */
  readonly rstCode: number
}

/** One stream with node's own http2 client to 127.0.0.1:port. */
export const rawCall = (
  port: number,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer
): Effect.Effect<RawReply> =>
  Effect.callback((resume) => {
    const session = http2.connect(`http://127.0.0.1:${port}`)
    session.on("error", () => {})
    const stream = session.request(headers, { endStream: body === undefined })
    if (body !== undefined) stream.end(body)
    let head: http2.IncomingHttpHeaders = {}
    let trailers: http2.IncomingHttpHeaders | undefined
    const chunks: Array<Buffer> = []
    stream.on("response", (h) => {
      head = h
    })
    stream.on("trailers", (t) => {
      trailers = t
    })
    stream.on("data", (c: Buffer) => chunks.push(c))
    stream.on("error", () => {})
    stream.on("close", () => {
      session.close()
      resume(Effect.succeed({ headers: head, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0 }))
    })
  })

/** A gRPC message frame (uncompressed) around `payload`. */
export const grpcFrame = (payload: Buffer): Buffer => {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

export interface RawBackend {
  readonly port: number
  /** Header blocks of the streams received. */
  readonly seen: Array<http2.IncomingHttpHeaders>
  /** Streams the peer reset or closed before an answer. */
  reset: number
}

/**
 * A node:http2 backend on 127.0.0.1 that answers streams with `answer` (by default never: it keeps
 * them open, like a server that hangs), closed with the scope.
 */
export const rawBackend = (
  answer?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void
): Effect.Effect<RawBackend, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<RawBackend & { server: http2.Http2Server }>((resolve) => {
        const server = http2.createServer()
        const b = { port: 0, seen: [] as Array<http2.IncomingHttpHeaders>, reset: 0, server }
        server.on("stream", (stream, headers) => {
          b.seen.push(headers)
          stream.on("error", () => {})
          stream.on("close", () => {
            if (!stream.headersSent) b.reset++
          })
          if (answer !== undefined) answer(stream, headers)
        })
        server.listen(0, "127.0.0.1", () => {
          b.port = (server.address() as { port: number }).port
          resolve(b)
        })
      })
    ),
    (b) => Effect.promise(() => new Promise<void>((done) => b.server.close(() => done())))
  )

/**
 * A grpc-js client of the mesh API, built from test/namerd/proto/mesh.proto (linkerd's field
 * numbers), for the namerd mesh tests.
 */
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import * as Effect from "effect/Effect"
import { fileURLToPath } from "node:url"

const definition = protoLoader.loadSync(fileURLToPath(new URL("./proto/mesh.proto", import.meta.url)), {
  keepCase: true,
  longs: Number,
  enums: String,
  bytes: Buffer,
  oneofs: true
})

const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  io: {
    linkerd: {
      mesh: {
        Interpreter: grpc.ServiceClientConstructor
        Resolver: grpc.ServiceClientConstructor
        Delegator: grpc.ServiceClientConstructor
      }
    }
  }
}

export type Msg = Record<string, any>

/** A path message. */
export const path = (text: string): Msg => ({
  elems: text.split("/").filter((s) => s !== "").map((s) => Buffer.from(s, "utf8"))
})

/** A path message's text. */
export const showPath = (p: Msg | undefined | null): string =>
  "/" + ((p?.elems ?? []) as Array<Buffer>).map((b) => b.toString("utf8")).join("/")

export interface Clients {
  readonly interpreter: grpc.Client & Record<string, any>
  readonly resolver: grpc.Client & Record<string, any>
  readonly delegator: grpc.Client & Record<string, any>
  readonly raw: grpc.Client
}

/** The three services' clients on 127.0.0.1:`port`, closed with the scope. */
export const clients = (port: number, credentials = grpc.credentials.createInsecure(), options?: grpc.ClientOptions) =>
  Effect.acquireRelease(
    Effect.sync((): Clients => {
      const target = `127.0.0.1:${port}`
      const mesh = pkg.io.linkerd.mesh
      return {
        interpreter: new mesh.Interpreter(target, credentials, options) as any,
        resolver: new mesh.Resolver(target, credentials, options) as any,
        delegator: new mesh.Delegator(target, credentials, options) as any,
        raw: new grpc.Client(target, credentials, options)
      }
    }),
    (c) =>
      Effect.sync(() => {
        c.interpreter.close()
        c.resolver.close()
        c.delegator.close()
        c.raw.close()
      })
  )

/** A unary call: the answer, or the error's code and details. */
export const unary = (client: Record<string, any>, method: string, req: Msg) =>
  Effect.callback<{ readonly ok?: Msg; readonly code?: number; readonly details?: string }>((resume) => {
    client[method](
      req,
      (err: grpc.ServiceError | null, rsp: Msg) =>
        resume(Effect.succeed(err === null ? { ok: rsp } : { code: err.code, details: err.details }))
    )
  })

/** A server-streaming call whose messages are pushed to `messages`, cancelled with the scope. */
export const streaming = (client: Record<string, any>, method: string, req: Msg) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const messages: Array<Msg> = []
      let error: grpc.ServiceError | undefined
      const call = client[method](req) as grpc.ClientReadableStream<Msg>
      call.on("data", (m: Msg) => messages.push(m))
      call.on("error", (e: grpc.ServiceError) => (error = e))
      return { messages, error: () => error, cancel: () => call.cancel() }
    }),
    (s) => Effect.sync(s.cancel)
  )

/** A unary call with raw request bytes on any method path. */
export const rawUnary = (client: grpc.Client, method: string, bytes: Buffer) =>
  Effect.callback<{ readonly code: number; readonly details: string }>((resume) => {
    client.makeUnaryRequest(
      method,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (err) =>
        resume(Effect.succeed(err === null ? { code: 0, details: "" } : { code: err.code, details: err.details }))
    )
  })

export { grpc }

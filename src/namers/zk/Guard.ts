/**
 * Guards on `node-zookeeper-client` (1.1.3), which weir's ZooKeeper namers and namerd's store use. It
 * parses the server's answers in its socket's `data` listener, and an error code it does not know —
 * ZooKeeper 3.5+ answers some, such as `-12` around an expired session — makes it throw there: an
 * uncaught exception that would end the process. With the guards, such a code fails the one call
 * it answers, with an error that names the code; and anything else that throws while an answer is
 * read closes the connection, as the client itself does with malformed answers (it then connects
 * again; a call whose answer was lost runs into weir's own call timeout). Installed once, when this
 * module is loaded.
 *
 * @internal
 */
// the client's internal modules (no types of their own): static imports, so that a bundle holds one
// instance of each, the one the client itself uses
// @ts-expect-error no declaration file for an internal module of node-zookeeper-client
import ConnectionManagerModule from "node-zookeeper-client/lib/ConnectionManager.js"
// @ts-expect-error no declaration file for an internal module of node-zookeeper-client
import ExceptionModule from "node-zookeeper-client/lib/Exception.js"

interface Manager {
  readonly socket?: { destroy(error?: Error): void } | undefined
}

/** The client's exception factory (`Exception.create`), marked once wrapped. */
type Factory = ((code: number, path?: string) => Error) & { __weirGuarded?: boolean }

/** A connection manager's prototype, marked once wrapped. */
interface ManagerProto {
  onSocketData: (this: Manager, buffer: Buffer) => void
  __weirGuarded?: boolean
}

const Exception = ExceptionModule as { create: Factory }
const ConnectionManager = ConnectionManagerModule as { prototype: ManagerProto }

/**
 * Wraps `onSocketData` of a connection manager's prototype: a throw while reading an answer destroys
 * the connection (a reconnect) instead of escaping the socket's listener.
 *
 * @internal
 */
export const guard = (proto: ManagerProto) => {
  if (proto.__weirGuarded === true) return
  const read = proto.onSocketData
  proto.onSocketData = function(this: Manager, buffer: Buffer) {
    try {
      read.call(this, buffer)
    } catch {
      // as the client does with an answer it finds malformed: the close makes it connect again
      this.socket?.destroy()
    }
  }
  proto.__weirGuarded = true
}

/**
 * Wraps an exception factory: an error code it refuses becomes an error that names the code.
 *
 * @internal
 */
export const guardCodes = (exceptions: { create: Factory }) => {
  if (exceptions.create.__weirGuarded === true) return
  const create = exceptions.create
  const guarded = (code: number, path?: string): Error => {
    try {
      return create(code, path)
    } catch {
      const error = new Error(
        `Exception: ZooKeeper error ${code}, unknown to node-zookeeper-client${path === undefined ? "" : `@${path}`}`
      ) as Error & { code: number; getCode(): number; getName(): string; getPath(): string | undefined }
      error.name = "UNKNOWN_ERROR"
      error.code = code
      error.getCode = () => code
      error.getName = () => "UNKNOWN_ERROR"
      error.getPath = () => path
      return error
    }
  }
  exceptions.create = Object.assign(guarded, { __weirGuarded: true })
}

guardCodes(Exception)
guard(ConnectionManager.prototype)

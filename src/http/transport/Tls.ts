/**
 * TLS for the HTTP/1.1 transport: the server side (a certificate and key, optionally a CA that
 * client certificates must chain to) and the client side (the CAs a backend's certificate must
 * chain to, the name it must carry, optionally a client certificate). Both read their files when
 * made and again on `reload()`: connections made afterwards use the new files, connections already
 * open keep theirs. A file that cannot be read or parsed fails with a `TlsError` naming the file,
 * never its contents; a private key's bytes are held only inside node's secure context.
 *
 * The transport takes these objects as options (`Server.Options.tls`, `Upstream.Options.tls`);
 * without them it stays on plain `node:net` sockets and does no TLS work at all.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as NodeTls from "node:tls"

/**
 * A certificate or key file could not be read, or node refused what it contained.
 *
 * @since 0.1.0
 * @category errors
 */
export class TlsError extends Data.TaggedError("TlsError")<{
  readonly detail: string
}> {
  override get message(): string {
    return this.detail
  }
}

/** The TLS protocol versions a `protocols` list may name. */
const versions: ReadonlyArray<NodeTls.SecureVersion> = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

/**
 * Whether `name` is a protocol version `protocols` accepts (`TLSv1` … `TLSv1.3`).
 *
 * @since 0.1.0
 * @category utils
 */
export const isProtocol = (name: string): name is NodeTls.SecureVersion =>
  (versions as ReadonlyArray<string>).includes(name)

const read = (path: string, what: string): Buffer => {
  try {
    return Fs.readFileSync(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new TlsError({ detail: `cannot read ${what} ${path}${code === undefined ? "" : ` (${code})`}` })
  }
}

/** A certificate file followed by its intermediates' file, if any (node sends the chain in order). */
const chain = (certPath: string, intermediatesPath: string | undefined, what: string): Buffer => {
  const cert = read(certPath, what)
  if (intermediatesPath === undefined) return cert
  return Buffer.concat([cert, Buffer.from("\n"), read(intermediatesPath, "intermediate certificates")])
}

/** Node's own message about a certificate or key, without anything from the file. */
const contextOf = (options: NodeTls.SecureContextOptions, files: string): NodeTls.SecureContext => {
  try {
    return NodeTls.createSecureContext(options)
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    throw new TlsError({ detail: `cannot use ${files}: ${reason}` })
  }
}

const protocolRange = (
  protocols: ReadonlyArray<string> | undefined
): { minVersion?: NodeTls.SecureVersion; maxVersion?: NodeTls.SecureVersion } => {
  if (protocols === undefined || protocols.length === 0) return {}
  const idx = protocols.filter(isProtocol).map((p) => versions.indexOf(p)).sort((a, b) => a - b)
  if (idx.length === 0) return {}
  return { minVersion: versions[idx[0]!]!, maxVersion: versions[idx[idx.length - 1]!]! }
}

/**
 * Settings of a TLS server (linkerd's `servers[].tls` and `admin.tls`).
 *
 * @since 0.1.0
 * @category model
 */
export interface ServerOptions {
  /** The server's certificate (PEM; a chain may follow it). */
  readonly certPath: string
  /** Intermediate CA certificates (PEM) sent after the server's, when not in `certPath` already. */
  readonly intermediateCertsPath?: string | undefined
  /** Its private key (PEM). */
  readonly keyPath: string
  /** The CA (PEM) client certificates must chain to, for `requireClientAuth`. */
  readonly caCertPath?: string | undefined
  /** Refuse clients without a certificate that chains to `caCertPath`. Defaults to `false`. */
  readonly requireClientAuth?: boolean | undefined
  /** OpenSSL cipher names the server accepts. Defaults to node's. */
  readonly ciphers?: ReadonlyArray<string> | undefined
  /** Protocol versions accepted (`TLSv1.2`, `TLSv1.3`); the range from the lowest to the highest. Defaults to node's. */
  readonly protocols?: ReadonlyArray<string> | undefined
}

/**
 * A server's certificate, key and CA as loaded, reloadable.
 *
 * @since 0.1.0
 * @category model
 */
export class ServerTls {
  /** The options node's TLS server takes (secure context options and client-certificate policy). */
  options: NodeTls.TlsOptions
  private readonly listeners = new Set<(options: NodeTls.TlsOptions) => void>()

  constructor(readonly config: ServerOptions) {
    this.options = ServerTls.load(config)
  }

  private static load(config: ServerOptions): NodeTls.TlsOptions {
    const cert = chain(config.certPath, config.intermediateCertsPath, "certificate")
    const key = read(config.keyPath, "private key")
    const ca = config.caCertPath === undefined ? undefined : read(config.caCertPath, "CA certificate")
    const options: NodeTls.TlsOptions = {
      cert,
      key,
      ...(ca !== undefined ? { ca } : {}),
      ...(config.ciphers !== undefined && config.ciphers.length > 0 ? { ciphers: config.ciphers.join(":") } : {}),
      ...protocolRange(config.protocols),
      requestCert: config.requireClientAuth === true,
      rejectUnauthorized: config.requireClientAuth === true
    }
    contextOf(options, `certificate ${config.certPath} and key ${config.keyPath}`)
    return options
  }

  /** Reads the files again; servers that listen on it use them for new connections. */
  reload(): void {
    this.options = ServerTls.load(this.config)
    for (const f of this.listeners) f(this.options)
  }

  /** Calls `f` with the new options after every reload; returns what unsubscribes. */
  onReload(f: (options: NodeTls.TlsOptions) => void): () => void {
    this.listeners.add(f)
    return () => this.listeners.delete(f)
  }
}

const attempt = <A>(f: () => A): Effect.Effect<A, TlsError> =>
  Effect.try({
    try: f,
    catch: (e) => e instanceof TlsError ? e : new TlsError({ detail: e instanceof Error ? e.message : String(e) })
  })

/**
 * Loads a server's TLS files, failing with `TlsError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const server = (config: ServerOptions): Effect.Effect<ServerTls, TlsError> =>
  attempt(() => new ServerTls(config))

/**
 * Settings of TLS to backends (linkerd's client `tls`).
 *
 * @since 0.1.0
 * @category model
 */
export interface ClientOptions {
  /** The name the backend's certificate must carry, also sent as SNI. Defaults to the address's host. */
  readonly commonName?: string | undefined
  /** CA files (PEM) the backend's certificate must chain to. Defaults to node's bundled CAs. */
  readonly trustCerts?: ReadonlyArray<string> | undefined
  /** One PEM file holding several CA certificates, added to `trustCerts`. */
  readonly trustCertsBundle?: string | undefined
  /** Accept any certificate. Defaults to `false`. */
  readonly disableValidation?: boolean | undefined
  /** The certificate and key presented to backends that ask for one. */
  readonly clientAuth?:
    | { readonly certPath: string; readonly intermediateCertsPath?: string | undefined; readonly keyPath: string }
    | undefined
  /** Protocol versions offered (`TLSv1.2`, `TLSv1.3`); the range from the lowest to the highest. Defaults to node's. */
  readonly protocols?: ReadonlyArray<string> | undefined
}

/**
 * The client side's CAs and client certificate as loaded, reloadable. One per client config; the
 * name checked is given per connection target (`Connect`).
 *
 * @since 0.1.0
 * @category model
 */
export class ClientTls {
  context: NodeTls.SecureContext

  constructor(readonly config: ClientOptions) {
    this.context = ClientTls.load(config)
  }

  private static load(config: ClientOptions): NodeTls.SecureContext {
    const files = [...(config.trustCerts ?? [])]
    if (config.trustCertsBundle !== undefined) files.push(config.trustCertsBundle)
    const ca = files.map((f) => read(f, "trusted certificate"))
    const auth = config.clientAuth
    const options: NodeTls.SecureContextOptions = {
      ...(ca.length > 0 ? { ca } : {}),
      ...(auth !== undefined
        ? {
          cert: chain(auth.certPath, auth.intermediateCertsPath, "client certificate"),
          key: read(auth.keyPath, "client key")
        }
        : {}),
      ...protocolRange(config.protocols)
    }
    const what = [...files, ...(auth === undefined ? [] : [auth.certPath, auth.keyPath])].join(", ")
    return contextOf(options, what === "" ? "client TLS settings" : what)
  }

  /** Reads the files again; connections made afterwards use them. */
  reload(): void {
    this.context = ClientTls.load(this.config)
  }

  /** What `Upstream` needs to connect with TLS, checking `commonName` (or the host when absent). */
  connect(commonName?: string | undefined): Connect {
    return { tls: this, commonName, rejectUnauthorized: this.config.disableValidation !== true }
  }
}

/**
 * Loads the client side's TLS files, failing with `TlsError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const client = (config: ClientOptions): Effect.Effect<ClientTls, TlsError> =>
  attempt(() => new ClientTls(config))

/**
 * Reads the files of `self` again (a `ServerTls` or a `ClientTls`), failing with `TlsError` and
 * keeping the files it had when one cannot be used.
 *
 * @since 0.1.0
 * @category reloading
 */
export const reload = (self: ServerTls | ClientTls): Effect.Effect<void, TlsError> => attempt(() => self.reload())

/**
 * How an upstream connects with TLS: the loaded files and the name the certificate must carry.
 *
 * @since 0.1.0
 * @category model
 */
export interface Connect {
  readonly tls: ClientTls
  /** Checked against the certificate and sent as SNI (unless an IP address). `undefined`: the host. */
  readonly commonName: string | undefined
  readonly rejectUnauthorized: boolean
}

/**
 * Opens a TLS connection to `host:port` as `connect` says, offering `alpn` (the h2 client offers
 * `["h2"]`; HTTP/1.1 offers none).
 *
 * @since 0.1.0
 * @category connecting
 */
export const open = (
  connect: Connect,
  host: string,
  port: number,
  alpn?: ReadonlyArray<string> | undefined
): NodeTls.TLSSocket => {
  const name = connect.commonName ?? host
  const socket = NodeTls.connect({
    host,
    port,
    ...(alpn !== undefined ? { ALPNProtocols: [...alpn] } : {}),
    secureContext: connect.tls.context,
    rejectUnauthorized: connect.rejectUnauthorized,
    ...(alpn !== undefined ? { ALPNProtocols: Array.from(alpn) } : {}),
    ...(Net.isIP(name) === 0 ? { servername: name } : {}),
    checkServerIdentity: (_host, cert) => NodeTls.checkServerIdentity(name, cert)
  })
  socket.setNoDelay(true)
  return socket
}

/**
 * Substitutes `{name}` in `template` with `vars` (the captures of a client config's prefix); an
 * unknown name is left as it is.
 *
 * @since 0.1.0
 * @category utils
 */
export const substitute = (template: string, vars: Readonly<Record<string, string>>): string =>
  template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => vars[name] ?? whole)

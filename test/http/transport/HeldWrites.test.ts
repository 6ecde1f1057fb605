/**
 * The transport holds a socket's writes until the end of the event-loop turn (internal/HeldWrites):
 * they leave together and in order, at most `maxHeld` sockets wait at once, and what a socket held
 * goes out before it is ended or destroyed. Real loopback sockets.
 */
import { afterEach, describe, expect, it } from "@effect/vitest"
import * as net from "node:net"
import { destroyAfterHeld, holdWrites, maxHeld } from "../../../src/http/transport/internal/HeldWrites.js"

interface Pair {
  readonly client: net.Socket
  /** Everything the other end has read so far. */
  readonly received: () => string
  /** Resolves with what the other end read once the client's side closed (FIN or reset). */
  readonly closed: Promise<string>
}

const servers: Array<net.Server> = []
const sockets: Array<net.Socket> = []

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy()
  for (const s of servers.splice(0)) s.close()
})

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 5))
  if (!ok()) throw new Error(`timed out waiting for ${what}`)
}

/** `n` connected client sockets, each with the accepted peer (found by port) that records what it reads. */
const pairs = async (n: number): Promise<Array<Pair>> => {
  const peers = new Map<number, { text: string; closed: Promise<string> }>()
  const server = net.createServer((peer) => {
    sockets.push(peer)
    const state = { text: "", closed: Promise.resolve("") }
    state.closed = new Promise((done) => {
      peer.on("data", (d: Buffer) => (state.text += d.toString("latin1")))
      peer.on("error", () => {})
      peer.on("close", () => done(state.text))
      peer.on("end", () => peer.end())
    })
    peers.set(peer.remotePort!, state)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as net.AddressInfo
  const clients = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<net.Socket>((resolve, reject) => {
        const client = net.connect(port, "127.0.0.1", () => resolve(client))
        client.setNoDelay(true)
        client.once("error", reject)
        sockets.push(client)
      }))
  )
  await until("every connection accepted", () => peers.size === n)
  return clients.map((client) => {
    client.on("error", () => {})
    const peer = peers.get(client.localPort!)!
    return { client, received: () => peer.text, closed: peer.closed }
  })
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe("HeldWrites", () => {
  it("a held socket's writes wait for the end of the turn, then leave in order", async () => {
    const [p] = await pairs(1)
    const { client } = p!
    holdWrites(client)
    client.write("GET / HTTP/1.1\r\n", "latin1")
    client.write(Buffer.from("host: web\r\n\r\n", "latin1"))
    holdWrites(client) // a second hold in the same turn is the same one
    expect(client.writableCorked).toBe(1)
    expect(client.writableLength).toBe(29)
    await nextTurn()
    expect(client.writableCorked).toBe(0)
    await until("the bytes", () => p!.received().length === 29)
    expect(p!.received()).toBe("GET / HTTP/1.1\r\nhost: web\r\n\r\n")
  })

  it(`at most ${maxHeld} sockets wait: holding one more sends the others' writes`, async () => {
    const all = await pairs(maxHeld + 1)
    for (let i = 0; i < maxHeld; i++) {
      holdWrites(all[i]!.client)
      all[i]!.client.write(`#${i}`)
    }
    expect(all.every((p, i) => i === maxHeld || p.client.writableCorked === 1)).toBe(true)
    const last = all[maxHeld]!.client
    holdWrites(last)
    last.write("last")
    expect(all.slice(0, maxHeld).every((p) => p.client.writableCorked === 0)).toBe(true)
    expect(last.writableCorked).toBe(1)
    await nextTurn()
    expect(last.writableCorked).toBe(0)
    await until("every socket's bytes", () => all.every((p, i) => p.received() === (i === maxHeld ? "last" : `#${i}`)))
  })

  it("a socket its owner corked is left to the owner", async () => {
    const [p] = await pairs(1)
    const { client } = p!
    client.cork()
    holdWrites(client)
    client.write("owned")
    expect(client.writableCorked).toBe(1)
    client.uncork()
    expect(client.writableCorked).toBe(0)
    await until("the bytes", () => p!.received() === "owned")
    await nextTurn()
    expect(client.writableCorked).toBe(0)
  })

  it("what a socket held goes out before end()'s FIN and before destroyAfterHeld closes it", async () => {
    const [ended, destroyed] = await pairs(2)
    holdWrites(ended!.client)
    ended!.client.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    ended!.client.end()
    holdWrites(destroyed!.client)
    destroyed!.client.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
    destroyAfterHeld(destroyed!.client)
    expect(destroyed!.client.destroyed).toBe(true)
    expect(await ended!.closed).toBe("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    expect(await destroyed!.closed).toBe("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
    // the end of the turn finds them uncorked already: nothing to do, nothing thrown
    await nextTurn()
  })
})

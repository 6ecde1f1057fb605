/**
 * The fake Kubernetes API (k8s-fake.ts) as a process of its own, for tests whose linkers run in
 * other network namespaces: `node --import tsx test/namers/k8s-fake-main.ts <port> '<endpoints JSON>'`
 * listens on 127.0.0.1:<port> with the given Endpoints objects
 * (`[{"namespace", "name", "spec": EndpointsSpec}]`) and prints `fake k8s ready` once listening.
 */
import * as Fake from "./k8s-fake.js"

const [port, json] = process.argv.slice(2)
const fake = await Fake.start({ port: Number(port) })
for (const o of JSON.parse(json ?? "[]") as Array<{ namespace: string; name: string; spec: Fake.EndpointsSpec }>) {
  fake.set(o.namespace, o.name, o.spec)
}
console.log(`fake k8s ready on ${fake.port}`)

import { describe, expect, it } from "@effect/vitest"
import * as Yaml from "effect/encoding/Yaml"
import * as Result from "effect/Result"
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet"
import { Deployment } from "kubernetes-models/apps/v1/Deployment"
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole"
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding"
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role"
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding"
import { ConfigMap } from "kubernetes-models/v1/ConfigMap"
import { Namespace } from "kubernetes-models/v1/Namespace"
import { Service } from "kubernetes-models/v1/Service"
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { appNames } from "../../examples/quickstart/apps.js"
import * as Validate from "../../src/proxy/Validate.js"

/** The Kubernetes object schemas, by `apiVersion/kind`. */
const models: Record<string, new(data: any) => { validate: () => void }> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/DaemonSet": DaemonSet,
  "apps/v1/Deployment": Deployment,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding
}

interface K8sObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string; readonly namespace?: string }
  readonly [key: string]: any
}

const dir = "deploy/k8s"
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()

/** The documents of a multi-document YAML file (comment-only documents dropped). */
const documents = (file: string): Array<K8sObject> =>
  readFileSync(join(dir, file), "utf8").split(/^---$/m)
    .map((text) => Yaml.parse(text))
    .filter((d): d is K8sObject => typeof d === "object" && d !== null)

/** Where each ConfigMap's routers come from. */
const configSources: Record<string, string> = {
  "l5d-config": "examples/configs/daemonset-tls.yaml",
  "weir-sidecar-config": "examples/configs/sidecar.yaml"
}

const containersOf = (o: K8sObject): Array<any> => o.spec?.template?.spec?.containers ?? []

describe("Kubernetes manifests (deploy/k8s)", () => {
  it("has the DaemonSet, sidecar and quickstart manifests", () => {
    expect(files).toEqual(["daemonset.yaml", "quickstart.yaml", "sidecar.yaml"])
  })

  for (const file of files) {
    it(`${file}: every object is valid against the Kubernetes schemas`, () => {
      const objects = documents(file)
      expect(objects.length).toBeGreaterThan(0)
      for (const o of objects) {
        const model = models[`${o.apiVersion}/${o.kind}`]
        if (model === undefined) throw new Error(`${file}: no schema for ${o.apiVersion} ${o.kind}`)
        expect(() => new model(o).validate(), `${file}: ${o.kind} ${o.metadata.name}`).not.toThrow()
      }
    })
  }

  it("a broken object fails the schema check (the check can fail)", () => {
    const ds = documents("daemonset.yaml").find((o) => o.kind === "DaemonSet")!
    const broken = { ...ds, spec: { ...ds.spec, template: { spec: { containers: [{ name: 7 }] } } } }
    expect(() => new DaemonSet(broken).validate()).toThrow()
  })

  it("each ConfigMap's config passes weir's config check and is the example config", () => {
    const maps = files.flatMap(documents).filter((o) => o.kind === "ConfigMap")
    expect(maps.map((m) => m.metadata.name).sort()).toEqual(Object.keys(configSources).sort())
    for (const m of maps) {
      const text: string = m.data["config.yaml"]
      const checked = Validate.check(text)
      if (Result.isFailure(checked)) {
        throw new Error(`${m.metadata.name}: ${checked.failure.map((p) => `${p.path}: ${p.message}`).join("; ")}`)
      }
      expect(Yaml.parse(text)).toEqual(Yaml.parse(readFileSync(configSources[m.metadata.name]!, "utf8")))
    }
  })

  it("the DaemonSet's transformers point at its own Service and port, and it gets POD_IP and NODE_NAME", () => {
    const objects = documents("daemonset.yaml")
    const config = Yaml.parse(objects.find((o) => o.kind === "ConfigMap")!.data["config.yaml"]) as any
    const outgoing = config.routers.find((r: any) => r.label === "outgoing")
    const incoming = config.routers.find((r: any) => r.label === "incoming")
    const ds = outgoing.interpreter.transformers[0]
    expect(ds.kind).toBe("io.l5d.k8s.daemonset")
    expect(incoming.interpreter.transformers[0].kind).toBe("io.l5d.k8s.localnode")
    const service = objects.find((o) => o.kind === "Service" && o.metadata.name === ds.service)!
    expect(service.metadata.namespace).toBe(ds.namespace)
    const incomingPort = service.spec.ports.find((p: any) => p.name === ds.port)
    expect(incomingPort.port).toBe(incoming.servers[0].port)
    const daemonSet = objects.find((o) => o.kind === "DaemonSet")!
    expect(service.spec.selector).toEqual(daemonSet.spec.selector.matchLabels)
    const weir = containersOf(daemonSet).find((c) => c.name === "weir")
    expect(weir.env.map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath])).toEqual([
      ["POD_IP", "status.podIP"],
      ["NODE_NAME", "spec.nodeName"]
    ])
    expect(weir.ports.find((p: any) => p.name === "outgoing").hostPort).toBe(outgoing.servers[0].port)
    // the namer and the transformer reach the API through the kubectl proxy beside weir
    expect(containersOf(daemonSet).find((c) => c.name === "kubectl").args).toEqual(["proxy", "--port=8001"])
    expect(config.namers[0]).toMatchObject({ kind: "io.l5d.k8s", host: "localhost", port: 8001 })
  })

  it("the linkers talk to each other over mutual TLS, with the files of the mounted Secret", () => {
    const objects = documents("daemonset.yaml")
    const config = Yaml.parse(objects.find((o) => o.kind === "ConfigMap")!.data["config.yaml"]) as any
    const outgoing = config.routers.find((r: any) => r.label === "outgoing")
    const incoming = config.routers.find((r: any) => r.label === "incoming")
    const daemonSet = objects.find((o) => o.kind === "DaemonSet")!
    const volume = daemonSet.spec.template.spec.volumes.find((v: any) => v.secret !== undefined)
    const weir = containersOf(daemonSet).find((c) => c.name === "weir")
    const mount = weir.volumeMounts.find((m: any) => m.name === volume.name)
    const files = [
      outgoing.client.tls.trustCerts[0],
      outgoing.client.tls.clientAuth.certPath,
      outgoing.client.tls.clientAuth.keyPath,
      incoming.servers[0].tls.certPath,
      incoming.servers[0].tls.keyPath,
      incoming.servers[0].tls.caCertPath
    ]
    for (const f of files) expect(f.startsWith(`${mount.mountPath}/`), f).toBe(true)
    expect(incoming.servers[0].tls.requireClientAuth).toBe(true)
    // the app-to-linker hop stays plaintext: only the hop between linkers is TLS
    expect(outgoing.servers[0].tls).toBeUndefined()
    expect(volume.secret.secretName).toBe("l5d-tls")
  })

  it("the demo runs the four quickstart apps from the image, each behind a Service port named http", () => {
    for (const file of ["quickstart.yaml", "sidecar.yaml"]) {
      const objects = documents(file)
      const deployments = objects.filter((o) => o.kind === "Deployment")
      expect(deployments.map((d) => d.metadata.name)).toEqual([...appNames])
      for (const d of deployments) {
        const app = containersOf(d).find((c) => c.name === "app")
        expect(app.command).toEqual(["node", "/app/dist/examples/quickstart-app.js", d.metadata.name])
        const service = objects.find((o) => o.kind === "Service" && o.metadata.name === d.metadata.name)!
        expect(service.spec.ports[0].name).toBe("http")
        expect(service.spec.selector).toEqual(d.spec.selector.matchLabels)
        expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true)
      }
      if (file === "sidecar.yaml") {
        for (const d of deployments) expect(containersOf(d).map((c) => c.name)).toEqual(["app", "weir", "kubectl"])
      }
    }
  })
})

describe("Dockerfile (structure only: no Docker engine here)", () => {
  const text = readFileSync("Dockerfile", "utf8")
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith("#"))
  const stages = lines.flatMap((l, i) => /^FROM\s/i.test(l) ? [i] : [])
  const last = lines.slice(stages[stages.length - 1])

  it("is multi-stage: a build stage that runs npm run build, a runtime stage copying from it", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(lines[stages[0]!]).toMatch(/ AS build$/)
    expect(lines.slice(stages[0]!, stages[1]!).some((l) => l.includes("npm run build"))).toBe(true)
    expect(last.some((l) => /^COPY --from=build .*dist\/bin\/weir\.js/.test(l))).toBe(true)
    expect(last.some((l) => /^COPY --from=build .*quickstart-app\.js/.test(l))).toBe(true)
  })

  it("runs the bundled bin as a non-root user", () => {
    const user = last.filter((l) => /^USER\s/.test(l)).map((l) => l.split(/\s+/)[1])
    expect(user).toHaveLength(1)
    expect(["root", "0"]).not.toContain(user[0])
    const pkg = JSON.parse(readFileSync("package.json", "utf8"))
    expect(pkg.bin.weir).toBe("./dist/bin/weir.js")
    expect(last.find((l) => l.startsWith("ENTRYPOINT"))).toBe(`ENTRYPOINT ["node", "/app/dist/bin/weir.js"]`)
  })
})

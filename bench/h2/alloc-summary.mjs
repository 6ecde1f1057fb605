// Bytes allocated per stream by function in a profile from bench/h2/alloc-profile.sh, and by the
// innermost frame of the bundle on each allocation's stack (what in weir caused it).
// Usage: node bench/h2/alloc-summary.mjs PROFILE [STREAMS=40000] [TOP=40]
import * as fs from "node:fs"

const profile = JSON.parse(fs.readFileSync(process.argv[2], "utf8"))
const per = Number(process.argv[3] ?? 40000)
const top = Number(process.argv[4] ?? 40)
const byFunction = new Map()
const byBundleFrame = new Map()
let total = 0
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v)
const walk = (node, owner) => {
  const cf = node.callFrame
  const file = (cf.url || "(native)").replace(/^.*\//, "")
  const name = `${cf.functionName || "(anonymous)"} ${file}:${cf.lineNumber + 1}:${cf.columnNumber + 1}`
  const here = file.endsWith(".js") && !file.startsWith("node:") && cf.url.includes("/") ? name : owner
  total += node.selfSize
  add(byFunction, name, node.selfSize)
  add(byBundleFrame, here ?? "(no bundle frame)", node.selfSize)
  for (const c of node.children) walk(c, here)
}
walk(profile.head, undefined)
const show = (title, m) => {
  console.log(`-- ${title}`)
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(v / per).toFixed(0).padStart(7)} B ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`)
  }
}
console.log(`${(total / per).toFixed(0)} B per stream sampled`)
show("by function", byFunction)
show("by innermost bundle frame", byBundleFrame)

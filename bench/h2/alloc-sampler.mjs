// Preloaded (node --import) into a proxy by bench/h2/alloc-profile.sh: the first SIGUSR2 starts V8's
// sampling heap profiler keeping samples of objects already collected (so short-lived garbage
// counts: bytes allocated, not retained), the second writes the profile to $ALLOC_OUT.
import * as fs from "node:fs"
import * as inspector from "node:inspector"
const session = new inspector.Session()
session.connect()
let sampling = false
process.on("SIGUSR2", () => {
  if (!sampling) {
    sampling = true
    session.post("HeapProfiler.startSampling", {
      samplingInterval: Number(process.env.ALLOC_INTERVAL ?? 4096),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true
    }, (err) => err && console.error("startSampling", err))
    return
  }
  session.post("HeapProfiler.stopSampling", (err, res) => {
    if (err) console.error("stopSampling", err)
    else fs.writeFileSync(process.env.ALLOC_OUT ?? "alloc.heapprofile", JSON.stringify(res.profile))
    sampling = false
  })
})

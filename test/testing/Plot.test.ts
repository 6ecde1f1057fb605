import { describe, expect, it } from "@effect/vitest"
import * as Plot from "../../src/testing/Plot.js"

const series = (name: string, slowFrom: number): Plot.Series => ({
  name,
  latencies: Float64Array.from({ length: 10_000 }, (_, i) => i < slowFrom ? 100 + i / 1000 : 1000)
})

describe("Plot", () => {
  it("draws one curve and one legend entry per variant, with percentile axis labels", () => {
    const svg = Plot.svg([series("round-robin", 9500), series("a<b&c", 9990)], { title: "t" })
    expect(svg.startsWith("<svg")).toBe(true)
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true)
    expect(svg.match(/<polyline/g)?.length).toBe(2)
    expect(svg).toContain(">round-robin</text>")
    expect(svg).toContain(">a&lt;b&amp;c</text>")
    for (const label of ["p50", "p90", "p99", "p99.9", "p99.99"]) expect(svg).toContain(`>${label}</text>`)
    expect(svg).not.toContain("NaN")
  })

  it("stops the x axis at the nines the data has and switches to a log scale for wide ranges", () => {
    const few = Plot.svg([{
      name: "x",
      latencies: Float64Array.from({ length: 200 }, (_, i) => i < 199 ? i + 1 : 5000)
    }])
    expect(few).toContain(">p99</text>")
    expect(few).not.toContain(">p99.9</text>")
    expect(few).toContain("log scale")
    expect(Plot.svg([series("y", 9000)])).not.toContain("log scale")
    expect(Plot.svg([{ name: "empty", latencies: [] }])).not.toContain("NaN")
  })
})

import * as Aperture from "../../src/loadbalancer/Aperture.js"
import * as Balancer from "../../src/loadbalancer/Balancer.js"
import * as Heap from "../../src/loadbalancer/Heap.js"
import * as P2C from "../../src/loadbalancer/P2C.js"
import * as P2CEwma from "../../src/loadbalancer/P2CEwma.js"
import * as RoundRobin from "../../src/loadbalancer/RoundRobin.js"
import { balancerSuite } from "./suite.js"

balancerSuite("roundRobin", () => RoundRobin.factory(), { spread: 0 })
balancerSuite("p2c", () => P2C.factory())
balancerSuite("ewma", () => P2CEwma.factory())
balancerSuite("heap", () => Heap.factory())
balancerSuite("aperture", () => Aperture.factory({ minAperture: 10 }))
balancerSuite("default (Balancer.Factory)", () => Balancer.Factory.defaultValue())
balancerSuite(
  "aperture (deterministic, one peer)",
  () => Aperture.deterministicFactory({ instanceId: 0, totalInstances: 1 })
)

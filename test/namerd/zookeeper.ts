/**
 * A real ZooKeeper on loopback for the namerd store tests: the same starter the ZooKeeper namers use.
 */
export { start, type ZooKeeper } from "../namers/zookeeper.js"

/**
 * An intrusive first-in-first-out list: the queued items carry their own links, so a request can
 * leave the middle of the queue in constant time (an interrupted waiter, a request that finished
 * before its timer). Used by the admission queue and the shared timeout timers.
 *
 * @internal
 */

/**
 * The links an item of a {@link Fifo} carries.
 *
 * @internal
 */
export interface Node<T> {
  prev: T | undefined
  next: T | undefined
  linked: boolean
}

/**
 * The list.
 *
 * @internal
 */
export class Fifo<T extends Node<T>> {
  head: T | undefined = undefined
  tail: T | undefined = undefined
  size = 0

  /** Adds `node` at the end. */
  push(node: T): void {
    node.prev = this.tail
    node.next = undefined
    node.linked = true
    if (this.tail === undefined) this.head = node
    else this.tail.next = node
    this.tail = node
    this.size++
  }

  /** Takes `node` out wherever it is; `false` when it was not in the list. */
  unlink(node: T): boolean {
    if (!node.linked) return false
    node.linked = false
    if (node.prev === undefined) this.head = node.next
    else node.prev.next = node.next
    if (node.next === undefined) this.tail = node.prev
    else node.next.prev = node.prev
    node.prev = undefined
    node.next = undefined
    this.size--
    return true
  }
}

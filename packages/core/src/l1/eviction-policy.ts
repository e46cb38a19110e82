import type { L1Entry } from './l1-entry.ts'

/**
 * L1's eviction policy: sampled, frequency-per-byte among the least recently used.
 *
 * To make room, L1 looks at its `sampleSize` least recently used entries and evicts the one worth
 * least per byte of memory: fewest (recent) reads per byte, `(hits + 1) / bytes`; an expired entry
 * first; on equal worth, the least recent. So each factor changes the choice: recency decides which
 * entries are at risk at all (an entry read lately is out of the sample), frequency and size decide
 * which of those goes: a big entry before several small ones read as often (GDSF's hit ratio per
 * byte), and a well-read older entry outlives a newer one read once.
 *
 * Why this shape:
 * - A hit costs one counter increment on top of lru-cache's `get`, which keeps the storage and the
 *   recency order (the L1-hit get must stay close to raw lru-cache). An eviction costs `sampleSize`
 *   steps from the LRU end, the same idea as Redis's approximated LRU/LFU (`maxmemory-samples` 5).
 * - The counter saturates at 15 (4 bits, like TinyLFU's counters) and is halved each time the cache
 *   has evicted as many entries as it holds (one turnover), so popularity that stopped fades (LFU
 *   with ageing). The halving is lazy, by an epoch stamp per entry: no sweep over the cache.
 * - No admission filter (W-TinyLFU's frequency sketch of ids not in the cache): with write-around,
 *   every admission is a read that just happened, and a sketch would hash the id on every hit.
 * - Nothing is pinned: with write-around, L1 never holds the only copy of a write (the queue and
 *   the log hold it until it is flushed, and reads look there), so any entry may be evicted.
 */
export const L1_EVICTION = Object.freeze({
  /** Least recently used entries compared for each eviction. */
  sampleSize: 5,
  /** Where an entry's read counter saturates. */
  maxHits: 15,
})

/** L1's bookkeeping beside an entry (entries are shared, immutable objects: the queue holds them too). */
export interface L1Node {
  readonly entry: L1Entry
  readonly bytes: number
  readonly expiresAt: number
  /** Reads, saturating at `maxHits`, halved once per ageing epoch passed since `epoch`. */
  hits: number
  /** The ageing epoch `hits` is up to date with. */
  epoch: number
}

/** The node's read count as of `epoch`. */
export function hitsAt(node: L1Node, epoch: number): number {
  const age = epoch - node.epoch
  return age === 0 ? node.hits : age >= 31 ? 0 : node.hits >>> age
}

export function recordHit(node: L1Node, epoch: number): void {
  if (node.epoch !== epoch) {
    node.hits = hitsAt(node, epoch)
    node.epoch = epoch
  }
  if (node.hits < L1_EVICTION.maxHits) node.hits++
}

export function isExpired(node: L1Node, now: number): boolean {
  return node.expiresAt !== 0 && now >= node.expiresAt
}

/** Whether `candidate`, more recent than the current `victim`, should be evicted instead of it. */
export function evictsBefore(candidate: L1Node, victim: L1Node, epoch: number, now: number): boolean {
  if (isExpired(victim, now)) return false
  if (isExpired(candidate, now)) return true
  // Lower (hits + 1) / bytes goes; cross-multiplied so the comparison is exact in integers.
  return (hitsAt(candidate, epoch) + 1) * victim.bytes < (hitsAt(victim, epoch) + 1) * candidate.bytes
}

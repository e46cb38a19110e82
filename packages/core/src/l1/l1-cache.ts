import { LRUCache } from 'lru-cache'
import { InvalidArgumentError } from '../errors.ts'
import { evictsBefore, hitsAt, isExpired, L1_EVICTION, type L1Node, recordHit } from './eviction-policy.ts'
import { type L1Entry, l1EntryBytes } from './l1-entry.ts'

export { type L1Entry, l1EntryBytes } from './l1-entry.ts'

/**
 * lru-cache keeps the entries, their recency order and the byte total (exact through sets,
 * overwrites and deletes); L1 never lets it evict on its own (this bound is out of reach) and
 * evicts by its own policy instead (`eviction-policy.ts`).
 */
const NO_LIBRARY_EVICTION = Number.MAX_SAFE_INTEGER

/**
 * L1: in-process memory bounded by bytes, evicting by recency, frequency and size
 * (`eviction-policy.ts`). TTL is checked here against the engine's clock rather than lru-cache's
 * own timers, so expiry is the same instant L2 uses and is testable with an injected clock.
 * Evicting is always safe: with write-around L1 never holds the only copy of an item (a write is
 * held by the write queue until it is flushed, and reads look there).
 */
export class L1Cache {
  readonly #lru = new LRUCache<string, L1Node>({
    maxSize: NO_LIBRARY_EVICTION,
    sizeCalculation: (node) => node.bytes,
  })
  #maxBytes: number
  #evictions = 0
  /** Ageing epoch of the read counters: it moves on each time the cache has turned over once. */
  #epoch = 0
  #evictedThisEpoch = 0

  constructor(
    maxBytes: number,
    private readonly now: () => number,
  ) {
    this.#maxBytes = checkBudget(maxBytes)
  }

  /** The live entry for `id`, or undefined. Expired entries are dropped on the way. */
  get(id: string): L1Entry | undefined {
    const node = this.#lru.get(id)
    if (node === undefined) return undefined
    if (node.expiresAt !== 0 && this.now() >= node.expiresAt) {
      this.#lru.delete(id)
      return undefined
    }
    // The common case inline (counter up to date, not saturated); ageing in `recordHit`.
    if (node.epoch === this.#epoch) {
      if (node.hits < L1_EVICTION.maxHits) node.hits++
    } else recordHit(node, this.#epoch)
    return node.entry
  }

  /** Like `get` but does not count as a use (neither recency nor frequency). */
  peek(id: string): L1Entry | undefined {
    return this.#peekNode(id)?.entry
  }

  /**
   * Stores the entry unless L1 already holds the same or a newer version of the id (version
   * guard; on equal versions the first writer wins, as in the write queue and L3).
   * Returns whether it was stored; an entry larger than the whole budget is not.
   */
  set(entry: L1Entry): boolean {
    const current = this.#peekNode(entry.id)
    if (current !== undefined && current.entry.version >= entry.version) return false
    // A new version keeps the id's read count: popularity belongs to the id, not to one version.
    const hits = current === undefined ? 0 : hitsAt(current, this.#epoch)
    if (current !== undefined) this.#lru.delete(entry.id)
    const bytes = l1EntryBytes(entry)
    if (bytes > this.#maxBytes) return false
    this.#evictDownTo(this.#maxBytes - bytes)
    this.#lru.set(entry.id, { entry, bytes, expiresAt: entry.expiresAt, hits, epoch: this.#epoch })
    return true
  }

  /**
   * Write-around: replaces the id's entry only if L1 holds an older version of it, so L1 never
   * goes on serving a version below a new write, without admitting every write (the write stays
   * readable from the write queue until it is flushed). Returns whether it was stored.
   */
  replaceIfPresent(entry: L1Entry): boolean {
    const current = this.#lru.peek(entry.id)
    if (current === undefined || current.entry.version >= entry.version) return false
    return this.set(entry)
  }

  delete(id: string): boolean {
    return this.#lru.delete(id)
  }

  /** Drops the entry only if it still holds exactly `version` (used when a tier rejected it as stale). */
  deleteIfVersion(id: string, version: number): boolean {
    const current = this.#lru.peek(id)
    if (current === undefined || current.entry.version !== version) return false
    return this.#lru.delete(id)
  }

  clear(): void {
    this.#lru.clear()
    this.#evictedThisEpoch = 0
  }

  get bytes(): number {
    return this.#lru.calculatedSize
  }

  get count(): number {
    return this.#lru.size
  }

  get maxBytes(): number {
    return this.#maxBytes
  }

  get evictions(): number {
    return this.#evictions
  }

  /** Every entry, most recently used first (for tests and accounting checks). */
  *entries(): IterableIterator<L1Entry> {
    for (const node of this.#lru.values()) if (node !== undefined) yield node.entry
  }

  /** Changes the byte budget, evicting by the policy down to a smaller one. */
  resize(maxBytes: number): void {
    this.#maxBytes = checkBudget(maxBytes)
    this.#evictDownTo(maxBytes)
  }

  /**
   * Evicts by the policy until L1 holds at most `bytes` (backpressure's evict effect); the budget
   * stays as it is, so reads may fill L1 up again. Returns how many entries went.
   */
  shrinkTo(bytes: number): number {
    if (!(bytes >= 0)) throw new InvalidArgumentError(`shrinkTo needs a number of bytes >= 0, got ${bytes}`)
    const before = this.#evictions
    this.#evictDownTo(bytes)
    return this.#evictions - before
  }

  #peekNode(id: string): L1Node | undefined {
    const node = this.#lru.peek(id)
    if (node === undefined) return undefined
    if (isExpired(node, this.now())) {
      this.#lru.delete(id)
      return undefined
    }
    return node
  }

  #evictDownTo(limit: number): void {
    while (this.#lru.calculatedSize > limit) this.#evictOne()
  }

  #evictOne(): void {
    const now = this.now()
    let victim: L1Node | undefined
    let sampled = 0
    // rvalues() walks from the least recently used end.
    for (const node of this.#lru.rvalues()) {
      if (node === undefined) continue
      if (victim === undefined || evictsBefore(node, victim, this.#epoch, now)) victim = node
      if (++sampled === L1_EVICTION.sampleSize) break
    }
    if (victim === undefined) return
    this.#lru.delete(victim.entry.id)
    this.#evictions++
    if (++this.#evictedThisEpoch >= Math.max(1, this.#lru.size)) {
      this.#epoch++
      this.#evictedThisEpoch = 0
    }
  }
}

function checkBudget(maxBytes: number): number {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new InvalidArgumentError(`the L1 budget must be a whole number of bytes > 0, got ${maxBytes}`)
  }
  return maxBytes
}

import { LRUCache } from 'lru-cache'
import type { SyncItem } from '../item/sync-item.ts'

/** What L1 holds for an id: the item, or a tombstone (`item: null`) so a delete reads as absent. */
export interface L1Entry {
  readonly id: string
  readonly item: SyncItem | null
  readonly version: number
  /** Epoch ms after which the entry is gone; 0 for never. */
  readonly expiresAt: number
}

const TOMBSTONE_OVERHEAD_BYTES = 96

export function l1EntryBytes(entry: L1Entry): number {
  return entry.item ? entry.item.footprintBytes : 2 * entry.id.length + TOMBSTONE_OVERHEAD_BYTES
}

/**
 * L1: in-process memory bounded by bytes, least-recently-used out first. lru-cache keeps the byte
 * total exact through sets, overwrites, deletes and evictions. TTL is checked here against the
 * engine's clock rather than lru-cache's own timers, so expiry is the same instant L2 uses and is
 * testable with an injected clock. Evicting is always safe: an item whose only copy is in memory
 * is also held by the write queue until it is flushed, and reads look there too.
 */
export class L1Cache {
  #lru: LRUCache<string, L1Entry>
  #evictions = 0

  constructor(
    maxBytes: number,
    private readonly now: () => number,
  ) {
    this.#lru = L1Cache.createLru(maxBytes, () => this.#evictions++)
  }

  private static createLru(maxBytes: number, onEvict: () => void) {
    return new LRUCache<string, L1Entry>({
      maxSize: maxBytes,
      sizeCalculation: l1EntryBytes,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') onEvict()
      },
    })
  }

  /** The live entry for `id`, or undefined. Expired entries are dropped on the way. */
  get(id: string): L1Entry | undefined {
    const entry = this.#lru.get(id)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== 0 && this.now() >= entry.expiresAt) {
      this.#lru.delete(id)
      return undefined
    }
    return entry
  }

  /** Like `get` but does not count as a use. */
  peek(id: string): L1Entry | undefined {
    const entry = this.#lru.peek(id)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== 0 && this.now() >= entry.expiresAt) {
      this.#lru.delete(id)
      return undefined
    }
    return entry
  }

  /**
   * Stores the entry unless L1 already holds the same or a newer version of the id (version
   * guard; on equal versions the first writer wins, as in the write queue and L3).
   * Returns whether it was stored; an entry larger than the whole budget is not.
   */
  set(entry: L1Entry): boolean {
    const current = this.peek(entry.id)
    if (current !== undefined && current.version >= entry.version) return false
    if (l1EntryBytes(entry) > this.#lru.maxSize) {
      this.#lru.delete(entry.id)
      return false
    }
    this.#lru.set(entry.id, entry)
    return true
  }

  /**
   * Write-around: replaces the id's entry only if L1 holds an older version of it, so L1 never
   * goes on serving a version below a new write, without admitting every write (the write stays
   * readable from the write queue until it is flushed). Returns whether it was stored.
   */
  replaceIfPresent(entry: L1Entry): boolean {
    const current = this.#lru.peek(entry.id)
    if (current === undefined || current.version >= entry.version) return false
    return this.set(entry)
  }

  delete(id: string): boolean {
    return this.#lru.delete(id)
  }

  /** Drops the entry only if it still holds exactly `version` (used when a tier rejected it as stale). */
  deleteIfVersion(id: string, version: number): boolean {
    const current = this.#lru.peek(id)
    if (current === undefined || current.version !== version) return false
    return this.#lru.delete(id)
  }

  clear(): void {
    this.#lru.clear()
  }

  get bytes(): number {
    return this.#lru.calculatedSize
  }

  get count(): number {
    return this.#lru.size
  }

  get maxBytes(): number {
    return this.#lru.maxSize
  }

  get evictions(): number {
    return this.#evictions
  }

  /** Every entry, most recently used first (for tests and accounting checks). */
  *entries(): IterableIterator<L1Entry> {
    yield* this.#lru.values()
  }

  /** Changes the byte budget, keeping the most recently used entries that fit. */
  resize(maxBytes: number): void {
    if (maxBytes === this.#lru.maxSize) return
    const old = this.#lru
    this.#lru = L1Cache.createLru(maxBytes, () => this.#evictions++)
    // rvalues() walks least-recent first, so the newest end up most recent again.
    for (const entry of old.rvalues()) if (entry) this.set(entry)
  }
}

import { LRUCache } from 'lru-cache'
import type { PendingWrite } from '../search/pending-writes.ts'

/** Outbox writes remembered for read-your-writes searches, at most. */
export const RECENT_OUTBOX_WRITES = 10_000
/** How long one is remembered at most: the flusher drains the outbox every minute. */
export const RECENT_OUTBOX_WRITE_MS = 10 * 60_000

/**
 * The writes this engine put in the Redis outbox, until L3 is seen to hold them: L3 answers
 * searches and listings, the flusher fills it later, and in between the engine's own writes must
 * still be in its results. Bounded (count and age): past the bound, an older acknowledged write
 * is answered as L3 has it until the flusher drained it (documented in docs/search.md).
 */
export class RecentOutboxWrites {
  readonly #writes: LRUCache<string, PendingWrite>

  constructor(now: () => number, max = RECENT_OUTBOX_WRITES, ttlMs = RECENT_OUTBOX_WRITE_MS) {
    this.#writes = new LRUCache({ max, ttl: ttlMs, perf: { now } })
  }

  noteWrite(write: PendingWrite): void {
    const seen = this.#writes.get(write.id)
    if (seen === undefined || seen.version < write.version) this.#writes.set(write.id, write)
  }

  /** The newest remembered write of `id`. */
  latest(id: string): PendingWrite | undefined {
    return this.#writes.get(id)
  }

  under(prefix: string): PendingWrite[] {
    const found: PendingWrite[] = []
    for (const write of this.#writes.values()) if (write.id.startsWith(prefix)) found.push(write)
    return found
  }

  settled(id: string, version: number): void {
    const seen = this.#writes.peek(id)
    if (seen !== undefined && seen.version <= version) this.#writes.delete(id)
  }

  get size(): number {
    return this.#writes.size
  }
}

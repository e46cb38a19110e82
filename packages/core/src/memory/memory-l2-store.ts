import { BackendError, InvalidArgumentError } from '../errors.ts'
import type { CorruptValue } from '../l2/corrupt-value.ts'
import { decodeEnvelope, decodeEnvelopeHead, ENVELOPE_HEAD_BYTES, encodeEnvelope } from '../l2/envelope.ts'
import type { L2ScanPage, L2Store, L2Value, L2WriteEntry, L2WriteResult } from '../l2/l2-store.ts'
import { DEFAULT_TOMBSTONE_RETENTION_MS } from '../l2/redis-store.ts'
import type { RedisCapabilities } from '../l2/redis-transport.ts'
import type { RecordHead } from '../l3/stored-record.ts'
import { validateTtl } from '../options/cache-ttl.ts'
import { SortedIds } from './sorted-ids.ts'

export interface MemoryL2StoreOptions {
  /** Names the store in `identity` and in errors (default `default`). */
  name?: string
  /** How long a tombstone stays, in ms (default 7 days, like `RedisStore`). */
  tombstoneRetentionMs?: number
  /** The clock TTLs run on (default `Date.now`): tests move it instead of waiting. */
  now?: () => number
}

/** One key, as Redis would hold it. */
interface Slot {
  /** The value Redis would store: encoding validates exactly like `RedisStore` and copies the content. */
  readonly envelope: Uint8Array
  readonly version: number
  readonly tombstone: boolean
  /** When the key disappears, on the store's clock; Infinity: never. */
  readonly deadline: number
}

const DEFAULT_SCAN_LIMIT = 1000
/** Marks a cursor as this store's (the id after which the next page starts). */
const CURSOR_PREFIX = 'after:'
const NO_CAPABILITIES: RedisCapabilities = { json: false, search: false, cluster: false }

/**
 * L2 in this process's memory, for tests and for single-process use without Redis. It keeps the
 * contract of `RedisStore` — the version guard, `repair`, conditions, tombstones with their
 * retention, TTLs — and stores each record as the same envelope, so what it validates, refuses and
 * returns is what Redis would. Nothing is shared with another process, and nothing survives one.
 * An expired key is gone, as in Redis. Scans page in UTF-8 order of ids, with the id a page ended
 * at as its cursor (so, unlike SCAN, no id appears twice).
 */
export class MemoryL2Store implements L2Store {
  readonly driver = 'memory'
  readonly capabilities: RedisCapabilities = NO_CAPABILITIES
  readonly #name: string
  readonly #tombstoneTtlMs: number
  readonly #now: () => number
  readonly #slots = new Map<string, Slot>()
  readonly #sorted = new SortedIds(() => this.#slots.keys())
  #closed = false
  /** Keys at the last sweep of expired ones: the next sweep waits until there are twice as many. */
  #sweptAt = 0

  constructor(options: MemoryL2StoreOptions = {}) {
    this.#name = options.name ?? 'default'
    this.#tombstoneTtlMs = options.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS
    validateTtl(this.#tombstoneTtlMs)
    this.#now = options.now ?? (() => Date.now())
  }

  /** `memory:<name>`: which store this is, for logs and health reports. */
  get identity(): string {
    return `memory:${this.#name}`
  }

  async init(): Promise<void> {
    this.#usable()
  }

  async write(entries: readonly L2WriteEntry[]): Promise<L2WriteResult> {
    this.#usable()
    if (entries.length === 0) return { applied: 0, stale: [] }
    // Encode (and so validate) everything before storing anything, as RedisStore does.
    const encoded = entries.map((entry) => ({
      entry,
      envelope: ownBytes(encodeEnvelope(entry.record)),
      ttlMs: this.#ttlOf(entry),
    }))
    const now = this.#now()
    const stale: string[] = []
    const replacedLive: string[] = []
    let conflicts: Map<string, number> | undefined
    let applied = 0
    // In entry order, one key at a time: an id written twice ends at its highest version.
    for (const { entry, envelope, ttlMs } of encoded) {
      const { id, version, tombstone } = entry.record
      const slot = this.#slot(id, now)
      const live = slot !== undefined && !slot.tombstone
      if (entry.ifVersion !== undefined) {
        const current = live ? slot.version : 0
        if (entry.ifVersion !== current) {
          conflicts ??= new Map()
          conflicts.set(id, current)
          continue
        }
      }
      if (slot !== undefined) {
        if (slot.version > version) {
          stale.push(id)
          continue
        }
        if (slot.version === version && !entry.repair) continue
      }
      if (!this.#slots.has(id)) this.#sorted.changed()
      this.#slots.set(id, { envelope, version, tombstone, deadline: ttlMs === 0 ? Infinity : now + ttlMs })
      applied++
      if (live) replacedLive.push(id)
    }
    this.#sweepIfGrown(now)
    return {
      applied,
      stale,
      ...(replacedLive.length > 0 && { replacedLive }),
      ...(conflicts && { conflicts }),
    }
  }

  async read(ids: readonly string[]): Promise<Map<string, L2Value>> {
    this.#usable()
    const now = this.#now()
    const found = new Map<string, L2Value>()
    for (const id of ids) {
      const slot = this.#slot(id, now)
      // Decoding copies the content out: the caller's record never aliases the stored bytes.
      if (slot !== undefined) found.set(id, decodeEnvelope(id, slot.envelope))
    }
    return found
  }

  async head(ids: readonly string[]): Promise<Map<string, RecordHead | CorruptValue>> {
    this.#usable()
    const now = this.#now()
    const found = new Map<string, RecordHead | CorruptValue>()
    for (const id of ids) {
      const slot = this.#slot(id, now)
      if (slot === undefined) continue
      const { envelope } = slot
      found.set(id, decodeEnvelopeHead(id, envelope.subarray(0, ENVELOPE_HEAD_BYTES), envelope.byteLength))
    }
    return found
  }

  async delete(ids: readonly string[]): Promise<number> {
    this.#usable()
    const now = this.#now()
    let deleted = 0
    for (const id of new Set(ids)) {
      if (this.#slot(id, now) !== undefined) deleted++
      if (this.#slots.delete(id)) this.#sorted.changed()
    }
    return deleted
  }

  async scanPrefix(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<L2ScanPage> {
    this.#usable()
    const limit = options.limit ?? DEFAULT_SCAN_LIMIT
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}`)
    }
    const { cursor } = options
    // '0' starts a scan, as SCAN's cursor does; anything else must be one of ours.
    if (cursor !== undefined && cursor !== '0' && !cursor.startsWith(CURSOR_PREFIX)) {
      throw new InvalidArgumentError('cursor must come from a previous scanPrefix')
    }
    const after = cursor === undefined || cursor === '0' ? undefined : cursor.slice(CURSOR_PREFIX.length)
    const now = this.#now()
    const { ids: sorted, start } = this.#sorted.from({ from: prefix, ...(after !== undefined && { after }) })
    const ids: string[] = []
    let at = start
    for (; at < sorted.length && ids.length < limit; at++) {
      const id = sorted[at]!
      if (!id.startsWith(prefix)) break
      if (this.#visible(id, now)) ids.push(id)
    }
    const more = at < sorted.length && sorted[at]!.startsWith(prefix)
    return { ids, cursor: more ? `${CURSOR_PREFIX}${sorted[at - 1]!}` : null }
  }

  async countPrefix(prefix: string): Promise<number> {
    this.#usable()
    const now = this.#now()
    let count = 0
    for (const id of this.#slots.keys()) if (id.startsWith(prefix) && this.#visible(id, now)) count++
    return count
  }

  async ping(): Promise<void> {
    this.#usable()
  }

  /** Drops every key. Idempotent; later calls fail with `BackendError`, like a closed connection. */
  async close(): Promise<void> {
    this.#closed = true
    this.#slots.clear()
    this.#sorted.changed()
  }

  /** The key's slot if it exists at `now`; an expired one is removed. */
  #slot(id: string, now: number): Slot | undefined {
    const slot = this.#slots.get(id)
    if (slot === undefined || slot.deadline > now) return slot
    this.#slots.delete(id)
    this.#sorted.changed()
    return undefined
  }

  #visible(id: string, now: number): boolean {
    const slot = this.#slots.get(id)
    return slot !== undefined && slot.deadline > now
  }

  /**
   * Removes expired keys once the map has doubled since the last sweep: keys nobody reads again
   * would otherwise stay forever (Redis expires them itself). Amortised O(1) per write.
   */
  #sweepIfGrown(now: number): void {
    if (this.#slots.size < 2 * this.#sweptAt + 1024) return
    for (const [id, slot] of this.#slots) {
      if (slot.deadline <= now) {
        this.#slots.delete(id)
        this.#sorted.changed()
      }
    }
    this.#sweptAt = this.#slots.size
  }

  #ttlOf(entry: L2WriteEntry): number {
    if (entry.record.tombstone) return this.#tombstoneTtlMs
    if (entry.ttlMs === undefined) return 0
    validateTtl(entry.ttlMs)
    return entry.ttlMs
  }

  #usable(): void {
    if (this.#closed) throw new BackendError('l2', `the memory store ${this.#name} is closed`)
  }
}

/**
 * The envelope as an array of its own: small envelopes are views into a shared 64 KiB slab, which
 * a long-lived stored value would otherwise keep alive.
 */
function ownBytes(envelope: Uint8Array): Uint8Array {
  return envelope.byteLength === envelope.buffer.byteLength ? envelope : envelope.slice()
}

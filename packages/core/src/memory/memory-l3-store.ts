import { BackendError, InvalidArgumentError } from '../errors.ts'
import type {
  L3Capabilities,
  L3Store,
  L3WriteOptions,
  L3WriteResult,
  WriteCondition,
} from '../l3/l3-store.ts'
import { priceRow } from '../l3/sql-rows.ts'
import { isLive, type RecordHead, type StoredRecord } from '../l3/stored-record.ts'
import { SortedIds } from './sorted-ids.ts'

export interface MemoryL3StoreOptions {
  /** Names the store in `identity` (`memory:<name>`, default `memory:default`), which a log binds to. */
  name?: string
  /** The clock that decides expiry when a write passes no `now` (default `Date.now`). */
  now?: () => number
}

const CAPABILITIES: L3Capabilities = {
  exactChangeCount: true,
  // No statements: one write takes any number of records.
  maxRowsPerStatement: Number.MAX_SAFE_INTEGER,
  shared: false,
}

/**
 * L3 in this process's memory: the ground truth for tests of the engine's parts and for library
 * users who need no database. It keeps the contract of `SqlStore` — the version guard, tombstones,
 * conditions, expiry, keyset scans in UTF-8 byte order (as SQLite's BINARY collation and MySQL's
 * binary strings sort) — and validates records with the same checks, so what it refuses a SQL
 * store refuses too. Each write is atomic (nothing else runs between its reads and its changes).
 * Nothing survives the process, and nothing is shared with another one (`shared: false`).
 */
export class MemoryL3Store implements L3Store {
  readonly dialect = 'memory'
  readonly driver = 'memory'
  readonly capabilities: L3Capabilities = CAPABILITIES
  readonly #name: string
  readonly #now: () => number
  readonly #records = new Map<string, StoredRecord>()
  readonly #sorted = new SortedIds(() => this.#records.keys())
  #closed = false

  constructor(options: MemoryL3StoreOptions = {}) {
    this.#name = options.name ?? 'default'
    this.#now = options.now ?? (() => Date.now())
  }

  get identity(): string {
    return `memory:${this.#name}`
  }

  async init(): Promise<void> {
    this.#usable()
  }

  /**
   * Unconditional records first, then conditional ones one by one, as `SqlStore` does. A record at
   * the stored version is a no-op (not applied, not stale). `reportStale: false` leaves `stale`
   * empty unless the write holds tombstones (`SqlStore` then needs to know, and so reports them).
   */
  async write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    this.#usable()
    if (records.length === 0) return { applied: 0, stale: [] }
    const now = options?.now ?? this.#now()
    const rejected = new Map<string, Error>()
    const plain: StoredRecord[] = []
    const conditional: { record: StoredRecord; condition: WriteCondition }[] = []
    for (const record of records) {
      // The checks of a SQL row (id, column lengths, versions, UTF-8 JSON), without a size limit.
      const row = priceRow(record, undefined, 0, 0)
      const condition = options?.conditions?.get(record.id)
      if (row instanceof Error) rejected.set(String(record.id), row)
      else if (condition !== undefined) conditional.push({ record, condition })
      else plain.push(record)
    }
    const reportStale = (options?.reportStale ?? true) || plain.some((record) => record.tombstone)
    let applied = 0
    const stale: string[] = []
    const storedVersions = new Map<string, number>()
    const deletedLive: string[] = []
    const conflicts = new Map<string, number>()
    for (const record of plain) {
      const stored = this.#records.get(record.id)
      if (stored !== undefined && stored.version >= record.version) {
        if (stored.version > record.version && reportStale) {
          stale.push(record.id)
          storedVersions.set(record.id, stored.version)
        }
        continue
      }
      this.#store(record)
      applied++
      if (record.tombstone && isLive(stored, now)) deletedLive.push(record.id)
    }
    for (const { record, condition } of conditional) {
      const stored = this.#records.get(record.id)
      const live = isLive(stored, now)
      const current = live ? stored.version : 0
      const held = condition.ifVersion > 0 ? current === condition.ifVersion : !live
      if (!held) conflicts.set(record.id, current)
      else if (stored !== undefined && stored.version >= record.version) {
        // As `SqlStore`: the condition held, the version guard did not (even at an equal version).
        stale.push(record.id)
        storedVersions.set(record.id, stored.version)
      } else {
        this.#store(record)
        applied++
        if (record.tombstone && live) deletedLive.push(record.id)
      }
    }
    return {
      applied,
      stale,
      ...(storedVersions.size > 0 && { storedVersions }),
      ...(rejected.size > 0 && { rejected }),
      ...(deletedLive.length > 0 && { deletedLive }),
      ...(conflicts.size > 0 && { conflicts }),
    }
  }

  async read(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    this.#usable()
    const found = new Map<string, StoredRecord>()
    for (const id of ids) {
      const stored = this.#records.get(id)
      if (stored !== undefined) found.set(id, copyOf(stored))
    }
    return found
  }

  async head(ids: readonly string[]): Promise<Map<string, RecordHead>> {
    this.#usable()
    const found = new Map<string, RecordHead>()
    for (const id of ids) {
      const stored = this.#records.get(id)
      if (stored === undefined) continue
      const { version, tombstone, expiresAt } = stored
      found.set(
        id,
        expiresAt === undefined ? { id, version, tombstone } : { id, version, tombstone, expiresAt },
      )
    }
    return found
  }

  async scanIds(options: {
    after?: string
    limit: number
    prefix?: string
    now?: number
  }): Promise<string[]> {
    this.#usable()
    const { limit, prefix, now } = options
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidArgumentError(`limit must be a non-negative integer, got ${limit}`)
    }
    const { ids: sorted, start } = this.#sorted.from({
      ...(options.after !== undefined && { after: options.after }),
      ...(prefix !== undefined && { from: prefix }),
    })
    const ids: string[] = []
    for (let at = start; at < sorted.length && ids.length < limit; at++) {
      const id = sorted[at]!
      if (prefix !== undefined && !id.startsWith(prefix)) break
      const stored = this.#records.get(id)!
      if (stored.tombstone) continue
      if (now !== undefined && stored.expiresAt !== undefined && stored.expiresAt <= now) continue
      ids.push(id)
    }
    return ids
  }

  async maxVersion(): Promise<number> {
    this.#usable()
    let max = 0
    for (const { version } of this.#records.values()) if (version > max) max = version
    return max
  }

  /** Items that are not tombstones, expired ones included until `purgeExpired` (as `SqlStore` counts). */
  async count(): Promise<number> {
    this.#usable()
    let count = 0
    for (const { tombstone } of this.#records.values()) if (!tombstone) count++
    return count
  }

  async purgeTombstones(olderThanMs: number): Promise<number> {
    this.#usable()
    let purged = 0
    for (const [id, { tombstone, updatedAt }] of this.#records) {
      if (tombstone && updatedAt < olderThanMs) {
        this.#records.delete(id)
        purged++
      }
    }
    if (purged > 0) this.#sorted.changed()
    return purged
  }

  async purgeExpired(now: number): Promise<number> {
    this.#usable()
    let purged = 0
    for (const stored of this.#records.values()) {
      if (stored.tombstone || stored.expiresAt === undefined || stored.expiresAt > now) continue
      // The tombstone keeps the version and dates from the expiry, as `SqlStore`'s purge does.
      const { id, version, expiresAt, state, contentType, mime } = stored
      this.#records.set(id, {
        id,
        version,
        updatedAt: expiresAt,
        hash: '',
        state,
        contentType,
        mime,
        content: null,
        tombstone: true,
      })
      purged++
    }
    return purged
  }

  async ping(): Promise<void> {
    this.#usable()
  }

  /** Drops every record. Idempotent; later calls fail with `BackendError`, like a closed database. */
  async close(): Promise<void> {
    this.#closed = true
    this.#records.clear()
    this.#sorted.changed()
  }

  /** Stores the record as a SQL row would hold it: its own copy, no content or expiry on a tombstone. */
  #store(record: StoredRecord): void {
    if (!this.#records.has(record.id)) this.#sorted.changed()
    const { id, version, updatedAt, hash, state, contentType, mime, tombstone, expiresAt } = record
    // Field by field: a `SyncItem` is a record too, with `tombstone` a getter a spread would lose.
    const stored: StoredRecord = {
      id,
      version,
      updatedAt,
      hash,
      state,
      contentType,
      mime,
      content: tombstone ? null : new Uint8Array(record.content!),
      tombstone: Boolean(tombstone),
    }
    this.#records.set(id, !tombstone && expiresAt ? { ...stored, expiresAt } : stored)
  }

  #usable(): void {
    if (this.#closed) throw new BackendError('l3', `the memory store ${this.#name} is closed`)
  }
}

/** A record the caller owns: mutating its content leaves the stored one alone. */
function copyOf(stored: StoredRecord): StoredRecord {
  return stored.content === null ? { ...stored } : { ...stored, content: new Uint8Array(stored.content) }
}

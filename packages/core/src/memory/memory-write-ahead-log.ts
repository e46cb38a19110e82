import { BackendError, InvalidArgumentError, LogTargetMismatchError, WalFullError } from '../errors.ts'
import { SyncItem } from '../item/sync-item.ts'
import type {
  PendingWrite,
  SettledWrite,
  WalEntry,
  WalKey,
  WalStats,
  WriteAheadLog,
} from '../log/write-ahead-log.ts'

export interface MemoryWriteAheadLogOptions {
  /** The bound on `stats().bytes`: an append that would pass it is refused with `WalFullError`. */
  maxBytes: number
  /** Names the log in errors (default `default`). */
  name?: string
}

/** Bytes an entry counts for beyond its content and its id (UTF-8): the SQLite log's estimate. */
export const MEMORY_WAL_ENTRY_OVERHEAD_BYTES = 64

const encoder = new TextEncoder()

/** What one write counts for in `stats().bytes` and against `maxBytes`. */
export function memoryWalEntryBytes(write: PendingWrite): number {
  return (
    (write.item?.content.byteLength ?? 0) +
    encoder.encode(write.id).byteLength +
    MEMORY_WAL_ENTRY_OVERHEAD_BYTES
  )
}

interface Logged {
  readonly seq: number
  readonly write: PendingWrite
  readonly bytes: number
}

type Lifecycle = 'new' | 'open' | 'closed'

/**
 * A write-ahead log in this process's memory. NOT DURABLE: its entries are lost when the process
 * exits or crashes, so an acknowledgement at `logged` promises nothing more than `queued` does. It
 * is for tests, and for library users who want the engine's `logged` code path (parking writes
 * while L3 is down, draining them when it returns) without a file.
 *
 * Otherwise it keeps the contract of the durable logs: seqs increase and are never reused, appends
 * are all or nothing against `maxBytes`, `removeThrough` never passes the highest seq assigned,
 * and `bind` refuses another target while entries are held. An append is committed at once, in
 * call order (there is no I/O for a group commit to share), and the log holds its own copy of
 * every write: mutating what was appended, or what a read returned, changes nothing logged.
 */
export class MemoryWriteAheadLog implements WriteAheadLog {
  readonly driver = 'memory'
  readonly #maxBytes: number
  readonly #name: string
  #state: Lifecycle = 'new'
  /** In seq order. */
  #entries: Logged[] = []
  /** Each id's entries, in seq order: `latest` and `remove` look at one id, not the whole log. */
  readonly #byId = new Map<string, Logged[]>()
  #bytes = 0
  #lastSeq = 0
  #target: string | undefined

  constructor(options: MemoryWriteAheadLogOptions) {
    const { maxBytes, name = 'default' } = options
    if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes <= 0) {
      throw new InvalidArgumentError(`maxBytes must be a positive number, got ${String(maxBytes)}`)
    }
    this.#maxBytes = maxBytes
    this.#name = name
  }

  async open(): Promise<void> {
    if (this.#state === 'closed') throw this.#unusable('open')
    this.#state = 'open'
  }

  get target(): string | undefined {
    return this.#target
  }

  async bind(target: string): Promise<void> {
    this.#usable('bind')
    if (typeof target !== 'string' || target.length === 0) {
      throw new InvalidArgumentError('the log target must be a non-empty string')
    }
    if (this.#target === target) return
    if (this.#target !== undefined && this.#entries.length > 0) {
      throw new LogTargetMismatchError(this.#target, target, this.#entries.length)
    }
    this.#target = target
  }

  async append(writes: readonly PendingWrite[]): Promise<void> {
    this.#usable('append')
    const sizes: number[] = []
    let bytes = 0
    for (const write of writes) {
      if (write.item !== null && write.item.id !== write.id) {
        throw new InvalidArgumentError(
          `logged write ${JSON.stringify(write.id)} carries an item of another id`,
        )
      }
      sizes.push(memoryWalEntryBytes(write))
      bytes += sizes.at(-1)!
    }
    // All or nothing: a call that does not fit appends none of its writes.
    if (this.#bytes + bytes > this.#maxBytes) throw new WalFullError(this.#bytes, this.#maxBytes)
    for (const [index, write] of writes.entries()) {
      const logged: Logged = { seq: ++this.#lastSeq, write: copyOf(write), bytes: sizes[index]! }
      this.#entries.push(logged)
      const ofId = this.#byId.get(write.id)
      if (ofId === undefined) this.#byId.set(write.id, [logged])
      else ofId.push(logged)
    }
    this.#bytes += bytes
  }

  async read(afterSeq: number, limit: number): Promise<WalEntry[]> {
    return this.#page(afterSeq, limit).map(({ seq, write }) => ({ seq, write: copyOf(write) }))
  }

  async keys(afterSeq: number, limit: number): Promise<WalKey[]> {
    return this.#page(afterSeq, limit).map(({ seq, write }) => ({
      seq,
      id: write.id,
      version: write.version,
    }))
  }

  async readSeqs(seqs: readonly number[]): Promise<WalEntry[]> {
    this.#usable('read')
    for (const seq of seqs) {
      if (!Number.isSafeInteger(seq))
        throw new InvalidArgumentError(`seqs must be integers, got ${String(seq)}`)
    }
    const found = new Map<number, Logged>()
    for (const seq of seqs) {
      const at = this.#firstAfter(seq - 1)
      const logged = this.#entries[at]
      if (logged?.seq === seq) found.set(seq, logged)
    }
    return [...found.values()]
      .sort((a, b) => a.seq - b.seq)
      .map(({ seq, write }) => ({ seq, write: copyOf(write) }))
  }

  async remove(settled: readonly SettledWrite[]): Promise<void> {
    this.#usable('remove')
    const highest = new Map<string, number>()
    for (const { id, version } of settled) {
      const seen = highest.get(id)
      if (seen === undefined || version > seen) highest.set(id, version)
    }
    const removed = new Set<number>()
    for (const [id, version] of highest) {
      const ofId = this.#byId.get(id)
      if (ofId === undefined) continue
      const kept = ofId.filter((logged) => {
        if (logged.write.version > version) return true
        removed.add(logged.seq)
        this.#bytes -= logged.bytes
        return false
      })
      if (kept.length === 0) this.#byId.delete(id)
      else this.#byId.set(id, kept)
    }
    if (removed.size > 0) this.#entries = this.#entries.filter((logged) => !removed.has(logged.seq))
  }

  async removeThrough(seq: number): Promise<void> {
    this.#usable('remove')
    if (typeof seq !== 'number' || Number.isNaN(seq)) {
      throw new InvalidArgumentError(`seq must be a number, got ${String(seq)}`)
    }
    const end = this.#firstAfter(seq)
    if (end === 0) return
    for (const logged of this.#entries.slice(0, end)) {
      this.#bytes -= logged.bytes
      const ofId = this.#byId.get(logged.write.id)!
      // Each id's entries are in seq order too: the removed ones are at its front.
      ofId.shift()
      if (ofId.length === 0) this.#byId.delete(logged.write.id)
    }
    this.#entries = this.#entries.slice(end)
  }

  async latest(id: string): Promise<PendingWrite | undefined> {
    this.#usable('read')
    let best: Logged | undefined
    for (const logged of this.#byId.get(id) ?? []) {
      if (best === undefined || logged.write.version >= best.write.version) best = logged
    }
    return best === undefined ? undefined : copyOf(best.write)
  }

  stats(): WalStats {
    return { entries: this.#entries.length, bytes: this.#bytes, maxBytes: this.#maxBytes }
  }

  /** Idempotent. The entries are dropped: nothing of this log outlives it. */
  async close(): Promise<void> {
    this.#state = 'closed'
    this.#entries = []
    this.#byId.clear()
    this.#bytes = 0
  }

  #page(afterSeq: number, limit: number): Logged[] {
    this.#usable('read')
    if (typeof afterSeq !== 'number' || Number.isNaN(afterSeq)) {
      throw new InvalidArgumentError(`afterSeq must be a number, got ${String(afterSeq)}`)
    }
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidArgumentError(`limit must be a non-negative integer, got ${String(limit)}`)
    }
    const start = this.#firstAfter(afterSeq)
    return this.#entries.slice(start, start + limit)
  }

  /** The index of the first entry with a seq above `seq` (bisection: entries are in seq order). */
  #firstAfter(seq: number): number {
    let low = 0
    let high = this.#entries.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#entries[middle]!.seq > seq) high = middle
      else low = middle + 1
    }
    return low
  }

  #usable(operation: string): void {
    if (this.#state !== 'open') throw this.#unusable(operation)
  }

  #unusable(operation: string): Error {
    const state = this.#state === 'new' ? 'not open yet' : 'closed'
    return new BackendError(
      'wal',
      `the memory write-ahead log ${this.#name} is ${state}: cannot ${operation}`,
    )
  }
}

/**
 * The fields a log keeps of a write (a `QueuedWrite` carries more), with content bytes of its own.
 * `condition` is never kept: conditional writes are never logged.
 */
function copyOf(write: PendingWrite): PendingWrite {
  const { id, version, updatedAt, item, route, expiresAt, callerVersioned } = write
  return {
    id,
    version,
    updatedAt,
    item:
      item === null
        ? null
        : SyncItem.restore({
            id: item.id,
            content: new Uint8Array(item.content),
            contentType: item.contentType,
            mime: item.mime,
            hash: item.hash,
            state: item.state,
            version: item.version,
            updatedAt: item.updatedAt,
          }),
    route: { l2: route.l2, l3: route.l3, ttlMs: route.ttlMs },
    expiresAt,
    callerVersioned,
  }
}

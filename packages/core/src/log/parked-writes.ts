import { l1EntryBytes } from '../l1/l1-entry.ts'
import type { PendingWrite } from '../log/write-ahead-log.ts'

/**
 * The writes parked in the write-ahead log while L3 is unreachable: for each id, the highest
 * version parked (reads consult the log for these ids), and — within a memory budget — the parked
 * write itself.
 *
 * Why keep the writes: the log is the durable copy, but reading it back is its dearest operation
 * (~5 µs an entry in SQLite, most of a drain's cost besides L3). A drain whose entries are held
 * here reads only the log's keys and takes the writes from memory; a write is used only if it is
 * exactly the entry's id and version, so what is stored is always what the log holds. Writes past
 * the budget, and everything parked by an earlier process, are read from the log as before.
 */
export class ParkedWrites {
  readonly #versions = new Map<string, number>()
  readonly #held = new Map<string, PendingWrite>()
  #heldBytes = 0
  #maxHeldBytes: number

  constructor(maxHeldBytes: number) {
    this.#maxHeldBytes = maxHeldBytes
  }

  /** Marks `id` parked at `version` (the highest mark stays); keeps `write` if the budget allows. */
  mark(id: string, version: number, write?: PendingWrite): void {
    const current = this.#versions.get(id)
    if (current !== undefined && current >= version) return
    this.#versions.set(id, version)
    this.#release(id)
    if (write === undefined || write.id !== id || write.version !== version) return
    const bytes = l1EntryBytes(write)
    if (this.#heldBytes + bytes > this.#maxHeldBytes) return
    this.#held.set(id, write)
    this.#heldBytes += bytes
  }

  /** The highest version parked for `id`, or undefined. */
  get(id: string): number | undefined {
    return this.#versions.get(id)
  }

  has(id: string): boolean {
    return this.#versions.has(id)
  }

  /** The parked ids under `prefix` (literal), each at its highest parked version. */
  under(prefix: string): { id: string; version: number }[] {
    const found: { id: string; version: number }[] = []
    for (const [id, version] of this.#versions) if (id.startsWith(prefix)) found.push({ id, version })
    return found
  }

  /** The parked write of `id` at exactly `version`, if it is held in memory. */
  held(id: string, version: number): PendingWrite | undefined {
    const write = this.#held.get(id)
    return write !== undefined && write.version === version ? write : undefined
  }

  /** The parked write of `id` at its highest parked version, if it is held in memory. */
  heldLatest(id: string): PendingWrite | undefined {
    const version = this.#versions.get(id)
    return version === undefined ? undefined : this.held(id, version)
  }

  /** Unmarks `id` if its mark is at or below `version` (a newer mark, made since, stays). */
  clearUpTo(id: string, version: number): void {
    const current = this.#versions.get(id)
    if (current === undefined || current > version) return
    this.#versions.delete(id)
    this.#release(id)
  }

  get size(): number {
    return this.#versions.size
  }

  /** Writes held in memory. */
  get heldCount(): number {
    return this.#held.size
  }

  get heldBytes(): number {
    return this.#heldBytes
  }

  /** Whether the budget has room for more writes. */
  get hasRoom(): boolean {
    return this.#heldBytes < this.#maxHeldBytes
  }

  /** A smaller budget applies to writes parked from now on; those held stay until drained. */
  set maxHeldBytes(bytes: number) {
    this.#maxHeldBytes = bytes
  }

  clear(): void {
    this.#versions.clear()
    this.#held.clear()
    this.#heldBytes = 0
  }

  #release(id: string): void {
    const write = this.#held.get(id)
    if (write === undefined) return
    this.#held.delete(id)
    this.#heldBytes -= l1EntryBytes(write)
  }
}

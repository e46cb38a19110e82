import type { HybridLogicalClock } from '../clock/hybrid-clock.ts'
import type { Logger } from '../engine/logger.ts'
import { BackendError, SyncError } from '../errors.ts'
import type { EngineMetrics } from '../metrics/engine-metrics.ts'
import type { QueuedWrite } from '../queue/queued-write.ts'
import { describe } from '../write/write-failures.ts'
import { ParkedWrites } from './parked-writes.ts'
import type { PendingWrite, SettledWrite, WalKey, WriteAheadLog } from './write-ahead-log.ts'

/** Entries per page when the log is read back at start. */
const INDEX_PAGE = 5_000
/**
 * Settled writes are removed from the log in batches of at least this many (or by the
 * maintenance run): a removal is a commit of its own, and one per flush halved `logged`
 * throughput. Until removed, an entry is only replayed once more after a crash — harmless, every
 * write is version-guarded.
 */
const REMOVE_BATCH = 10_000

/**
 * The engine's side of the write-ahead log: appends for ack `logged`, writes parked while L3 is
 * unreachable (and which ids they are, so reads find them), and removal of what the tiers settled.
 * Every failure of the log itself reaches callers as `BackendError` (tier `wal`, retryable),
 * never as a caller's error.
 */
export class LogKeeper {
  /** Writes parked in the log while L3 was unreachable, by id (and, within a budget, the writes). */
  readonly parked: ParkedWrites
  /** Queued writes already in the log: not appended twice, and removed once settled. */
  readonly #inLog = new WeakSet<QueuedWrite>()
  #settled: SettledWrite[] = []
  /** Entries written from the log to the tiers since start (replay and drains). */
  drained = 0

  constructor(
    readonly log: WriteAheadLog,
    private readonly metrics: EngineMetrics,
    private readonly logger: Logger,
    heldBytes: number,
  ) {
    // Parked writes left the queue; up to the queue's own budget they stay in memory for the drain.
    this.parked = new ParkedWrites(heldBytes)
  }

  /** Appends (group-committed with every other append of this tick) before a `logged` ack. */
  async append(writes: readonly QueuedWrite[]): Promise<void> {
    await this.#typed(() => this.log.append(writes))
    this.metrics.walAppended(writes.length)
    for (const write of writes) this.#inLog.add(write)
  }

  has(write: QueuedWrite): boolean {
    return this.#inLog.has(write)
  }

  /**
   * Keeps L3-bound writes durable in the log while L3 is unreachable; reads find them there. A
   * full log throws: the batch then stays queued in memory (nothing is dropped).
   */
  async park(writes: readonly QueuedWrite[]): Promise<void> {
    const unlogged = writes.filter((write) => !this.#inLog.has(write))
    if (unlogged.length > 0) {
      await this.#typed(() => this.log.append(unlogged))
      this.metrics.walAppended(unlogged.length)
    }
    for (const write of writes) {
      this.#inLog.add(write)
      this.parked.mark(write.id, write.version, write)
    }
    this.logger.warn({ writes: writes.length }, 'L3 unavailable: writes parked in the write-ahead log')
  }

  /** The parked write of `id` (held in memory, else read from the log), if one is parked. */
  async parkedWrite(id: string): Promise<PendingWrite | undefined> {
    const version = this.parked.get(id)
    if (version === undefined) return undefined
    return this.parked.held(id, version) ?? (await this.#typed(() => this.log.latest(id)))
  }

  /**
   * The parked writes under `prefix` (literal), newest per id: searches and listings merge them
   * (read your writes until the drain stored them). Those past the memory budget, or parked by an
   * earlier process, are read from the log, an id at a time: rare, and never more than are parked.
   */
  async parkedUnder(prefix: string): Promise<PendingWrite[]> {
    const marks = this.parked.under(prefix)
    if (marks.length === 0) return []
    const writes = await Promise.all(
      marks.map(({ id, version }) => this.parked.held(id, version) ?? this.#typed(() => this.log.latest(id))),
    )
    return writes.filter((write) => write !== undefined)
  }

  /**
   * Writes the tiers are done with leave the log (with any older parked entry of their id), in
   * batches. Returns whether removals wait for the next maintenance run.
   */
  async forget(settled: readonly QueuedWrite[]): Promise<boolean> {
    let any = false
    for (const write of settled) {
      const parked = write.route.l3 && this.parked.has(write.id)
      if (!this.#inLog.has(write) && !parked) continue
      this.#settled.push({ id: write.id, version: write.version })
      any = true
      if (parked) this.parked.clearUpTo(write.id, write.version)
    }
    if (!any) return false
    if (this.#settled.length >= REMOVE_BATCH) await this.removeSettled()
    return this.#settled.length > 0
  }

  /** Settled writes whose entries wait to be removed. */
  get settledWaiting(): number {
    return this.#settled.length
  }

  /** Queues settled writes found by a drain that could not trim the log by range. */
  settle(writes: readonly SettledWrite[]): void {
    for (const write of writes) this.#settled.push(write)
  }

  async removeSettled(): Promise<void> {
    const settled = this.#settled
    if (settled.length === 0) return
    this.#settled = []
    try {
      await this.log.remove(settled)
      this.metrics.walDrained(settled.length)
    } catch (error) {
      // Left in the log, they are replayed later: harmless, every tier write is version-guarded.
      this.logger.warn({ err: describe(error) }, 'removing stored writes from the log failed')
    }
  }

  /**
   * Marks every write still in the log as parked (so reads find it) and moves the clock past it.
   * While the memory budget has room the writes themselves are read and held, so the drain when L3
   * returns need not read them again; past it, only the keys.
   */
  async indexParked(clock: HybridLogicalClock): Promise<void> {
    const log = this.log
    let afterSeq = 0
    for (;;) {
      const hold = this.parked.hasRoom || !log.keys
      const page: readonly (WalKey & { write?: PendingWrite })[] = hold
        ? (await log.read(afterSeq, INDEX_PAGE)).map(({ seq, write }) => ({
            seq,
            id: write.id,
            version: write.version,
            write,
          }))
        : await log.keys!(afterSeq, INDEX_PAGE)
      const last = page[page.length - 1]
      if (last === undefined) return
      for (const { id, version, write } of page) {
        clock.observe(version)
        this.parked.mark(id, version, write)
      }
      afterSeq = last.seq
    }
  }

  async #typed<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      throw error instanceof SyncError ? error : new BackendError('wal', describe(error), { cause: error })
    }
  }
}

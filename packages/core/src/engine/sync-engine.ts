import type { Meter } from '@opentelemetry/api'
import type { FlushOutcome, QueuedWrite } from '../batch/queued-write.ts'
import { WriteQueue } from '../batch/write-queue.ts'
import { HybridLogicalClock, versionTimeMs } from '../clock/hybrid-clock.ts'
import { parseConfig } from '../config/load-config.ts'
import { LIVE_FIELDS, redactUrl, type SyncConfig, type SyncConfigInput } from '../config/sync-config.ts'
import {
  BackendError,
  EngineStateError,
  FlushError,
  InvalidArgumentError,
  NoTierError,
  PayloadTooLargeError,
  SyncError,
} from '../errors.ts'
import { ExistenceFilter } from '../filter/existence-filter.ts'
import { scanIdPages } from '../filter/scan-id-pages.ts'
import { validateId } from '../item/item-id.ts'
import { SyncItem } from '../item/sync-item.ts'
import { L1Cache, type L1Entry, l1EntryBytes } from '../l1/l1-cache.ts'
import { isCorrupt } from '../l2/corrupt-value.ts'
import type { L2Store, L2WriteEntry } from '../l2/l2-store.ts'
import type { L3Store, L3WriteResult } from '../l3/l3-store.ts'
import type { StoredRecord } from '../l3/stored-record.ts'
import { EngineMetrics } from '../metrics/engine-metrics.ts'
import type { BackendOperation } from '../metrics/metric-attributes.ts'
import type { AckLevel, Route, SubmitOptions } from '../options/submit-options.ts'
import { validateSubmitOptions } from '../options/submit-options.ts'
import { defaultPlatform, type Platform, type TimerHandle } from '../platform/platform.ts'
import { Backpressure, type PressureInputs } from '../pressure/backpressure.ts'
import { severity } from '../pressure/backpressure-level.ts'
import type { BackendTier } from '../resilience/backend-tier.ts'
import type { BreakerOptions } from '../resilience/breaker-options.ts'
import { CircuitBreaker } from '../resilience/circuit-breaker.ts'
import { CircuitOpenError } from '../resilience/circuit-open-error.ts'
import type { LoggedWrite, SettledWrite, WalEntry, WalKey, WriteAheadLog } from '../wal/write-ahead-log.ts'
import type { EngineState, StateListener } from './engine-state.ts'
import { asSyncError, describe, failureOf, settle } from './flush-failures.ts'
import { type Logger, silentLogger } from './logger.ts'
import { ParkedWrites } from './parked-writes.ts'
import { RacingWrites } from './racing-writes.ts'
import type {
  BulkResult,
  DeleteReceipt,
  FlushReport,
  HealthReport,
  ItemStatus,
  ReconfigureResult,
  SubmitReceipt,
  TierHealth,
} from './receipts.ts'
import { earliest, itemOf, l2EntryOf, recordOf } from './records.ts'
import { VersionMarks } from './version-marks.ts'

export interface SyncEngineOptions {
  /** Parsed config (`loadConfig`) or raw input, validated here. */
  config?: SyncConfig | SyncConfigInput
  /** L2, the shared cache (Redis). Optional. */
  l2?: L2Store
  /** L3, the ground truth. Absent means a memory-only engine (every write then fails with `NoTierError`). */
  l3?: L3Store
  /**
   * The durable write-ahead log: ack `logged`, replay at start, writes parked while L3 is down.
   * Without one, `logged` is served as `stored` and an unreachable L3 fails the start.
   */
  wal?: WriteAheadLog
  platform?: Platform
  logger?: Logger
  /** Circuit breaker and deadline of each backend (defaults: `DEFAULT_BREAKER_OPTIONS`). */
  breakers?: { l2?: Partial<BreakerOptions>; l3?: Partial<BreakerOptions> }
  /** OpenTelemetry meter; default the global one (a no-op unless the host installed an SDK first). */
  meter?: Meter
}

/** Routes of writes without a TTL: shared, not allocated per write. */
const L3_ONLY: Route = Object.freeze({ l2: false, l3: true, ttlMs: undefined })
const L2_AND_L3: Route = Object.freeze({ l2: true, l3: true, ttlMs: undefined })
const TOMBSTONE_PURGE_INTERVAL_MS = 3_600_000
const SHUTDOWN_FLUSH_ATTEMPTS = 3
/** How often the engine retries what an outage left behind (connect L3, drain the log, reconcile L2). */
const MAINTENANCE_INTERVAL_MS = 100
/**
 * The tick while writes wait for L3 (parked, or L3 not connected): a tick only asks the breaker
 * (no I/O while it is open), and the probe that starts the drain should not wait long.
 */
const RECOVERY_INTERVAL_MS = 20
/** Log entries per drain step: full batches, not a trickle (the seed system drained 20/s). */
const DRAIN_BATCH = 5_000
/**
 * Stored writes are removed from the log in batches of at least this many (or by the maintenance
 * timer): a removal is a commit of its own, and one per flush halved `logged` throughput. Until
 * removed, an entry is only replayed once more after a crash — harmless, every write is
 * version-guarded.
 */
const REMOVE_BATCH = 10_000

/** A page of the log for a drain: its entries, the seq it reaches, and whether more may follow. */
interface DrainPage {
  readonly entries: readonly WalEntry[]
  /** The last seq the page covered (0: the log had nothing after the cursor). */
  readonly lastSeq: number
  readonly full: boolean
}

const EMPTY_PAGE: DrainPage = { entries: [], lastSeq: 0, full: false }

/** What a drain has done so far: counts, and the writes it stored (removed from the log at its end). */
interface DrainProgress {
  drained: number
  /** Some entries stay in the log (cache-only writes L2 missed): the log is not cleared by range. */
  keptAny: boolean
  settled: SettledWrite[]
}

/**
 * The engine: one object per process that owns L1, the write queue, the log and the tiers.
 * Write path: validate → version → (L1 only if it holds an older copy) → log (ack `logged`) →
 * queue → (flush) version-guarded tier writes, L3 first; while L3 is unreachable, flushes park
 * in the log and drain when it returns.
 * Read path: L1 → queue / log (read your writes) → existence filter → L2 → L3, back-filling.
 */
export class SyncEngine {
  #config: SyncConfig
  #state: EngineState = 'created'
  readonly #listeners = new Set<StateListener>()
  readonly #platform: Platform
  readonly #logger: Logger
  readonly #clock: HybridLogicalClock
  readonly #l1: L1Cache
  readonly #queue: WriteQueue
  readonly #l2: L2Store | undefined
  readonly #l3: L3Store | undefined
  readonly #wal: WriteAheadLog | undefined
  readonly #breakers: { readonly l2: CircuitBreaker; readonly l3: CircuitBreaker }
  /** L3 answered `init()`; false while an engine that started degraded waits for it. */
  #l3Connected = false
  /** Writes held only by the log (parked while L3 was unreachable), by id: reads consult the log. */
  readonly #parked: ParkedWrites
  /** Ids whose L2 copy may be older than an acknowledged write: reads skip L2 until reconciled. */
  readonly #l2Stale = new VersionMarks()
  /** Queued writes already in the log (not appended twice; removed from it once stored). */
  readonly #logged = new WeakSet<QueuedWrite>()
  /** Writes go around L1: a read must not admit what a concurrent write has superseded. */
  readonly #races = new RacingWrites()
  /** Over L3 ids (and the ids this engine caches in L2); trusted only for a single writer. */
  #filter: ExistenceFilter | undefined
  #filterTrusted = false
  #filterChecks = 0
  #filterFalsePositives = 0
  #maintenanceTimer: TimerHandle | undefined
  #connecting: Promise<void> | undefined
  #maintenance: Promise<void> | undefined
  #draining: Promise<number> | undefined
  #drainedFromLog = 0
  /** Stored writes whose log entries are due for removal (see `REMOVE_BATCH`). */
  #settledInLog: { id: string; version: number }[] = []
  readonly #metrics: EngineMetrics
  /** Levels from the queue's and the log's fill: evict, slow down, refuse (reads never). */
  readonly #pressure = new Backpressure()
  #detachMetrics: (() => void) | undefined
  /** L2 values that could not be decoded: served as misses and rewritten from L3. */
  #corruptL2Reads = 0
  /** L2 reads that failed (Redis unreachable): served from L3 instead. */
  #failedL2Reads = 0
  readonly #flights = new Map<string, Promise<SyncItem>>()
  #startPromise: Promise<void> | undefined
  #shutdownPromise: Promise<void> | undefined
  #lastPurgeAt = 0
  /** A delete goes to every tier the engine has. */
  get #tombstoneRoute(): Route {
    return this.#l2 ? (this.#l3 ? L2_AND_L3 : { l2: true, l3: false, ttlMs: undefined }) : L3_ONLY
  }
  #payloadLimit: number

  constructor(options: SyncEngineOptions = {}) {
    this.#config = parseConfig(options.config ?? {})
    this.#platform = options.platform ?? defaultPlatform
    this.#logger = options.logger ?? silentLogger
    this.#l2 = options.l2
    this.#l3 = options.l3
    this.#wal = options.wal
    this.#metrics = new EngineMetrics(options.meter)
    this.#pressure.onChange((_level, previous) =>
      this.#logger.warn({ previous, ...this.#pressure.snapshot() }, 'backpressure level changed'),
    )
    this.#breakers = {
      l2: new CircuitBreaker('l2', this.#platform, options.breakers?.l2),
      l3: new CircuitBreaker('l3', this.#platform, options.breakers?.l3),
    }
    for (const breaker of Object.values(this.#breakers)) {
      breaker.onStateChange((state, previous) => {
        this.#logger.warn({ tier: breaker.tier, state, previous }, 'circuit breaker changed state')
        if (state === 'closed') this.#scheduleMaintenance()
      })
    }
    this.#payloadLimit = this.#config.maxPayloadBytes
    // Parked writes left the queue; up to the queue's own budget they stay in memory for the drain.
    this.#parked = new ParkedWrites(this.#config.queueMaxBytes)
    this.#clock = new HybridLogicalClock(this.#platform.now)
    this.#l1 = new L1Cache(this.#config.l1MaxBytes, this.#platform.now)
    this.#queue = new WriteQueue({
      maxCount: this.#config.batchFlushCount,
      maxBytes: this.#config.batchFlushBytes,
      maxAgeMs: this.#config.batchFlushMs,
      platform: this.#platform,
      flushBatch: (batch) => this.#writeBatch(batch),
      onFlushError: (error, ids) =>
        this.#logger.error({ err: error.message, ids }, 'flush failed; writes stay queued'),
    })
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────

  get state(): EngineState {
    return this.#state
  }

  get config(): Readonly<SyncConfig> {
    return this.#config
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: StateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Connects the tiers and becomes `ready`. A second call while starting or ready returns the
   * first call's promise; after `shutdown` it is an `EngineStateError`.
   */
  start(): Promise<void> {
    // Once stopping, stopped or failed an engine does not start again (a new engine does).
    if (this.#shutdownPromise || this.#state === 'failed') {
      return Promise.reject(new EngineStateError(this.#state, 'start'))
    }
    if (this.#startPromise) return this.#startPromise
    this.#startPromise = this.#start()
    return this.#startPromise
  }

  async #start(): Promise<void> {
    try {
      this.#setState('connecting')
      if (this.#wal) await this.#wal.open()
      if (this.#l3) await this.#connectL3AtStart()
      if (this.#l2) await this.#l2.init()
      this.#setState('draining-wal')
      if (this.#wal) await this.#replayLog()
      this.#setState('warming')
      if (this.#l3Connected) await this.#warmFromL3()
      this.#setState('ready')
      this.#observeMetrics()
      this.#scheduleMaintenance()
      this.#logger.info(
        {
          l2: this.#l2?.driver ?? 'none',
          l3: this.#l3?.driver ?? 'none',
          wal: this.#wal?.driver ?? 'none',
          degraded: this.#degradedTiers(),
        },
        'engine ready',
      )
    } catch (error) {
      this.#setState('failed')
      await this.#l3?.close().catch(() => {})
      await this.#l2?.close().catch(() => {})
      await this.#wal?.close().catch(() => {})
      throw error instanceof SyncError ? error : new BackendError('l3', describe(error), { cause: error })
    }
  }

  /** Connects L3; if it is unreachable and a log can hold writes meanwhile, starts degraded instead. */
  async #connectL3AtStart(): Promise<void> {
    try {
      await this.#l3!.init()
      this.#l3Connected = true
    } catch (error) {
      if (this.#config.requireL3AtStart || !this.#wal) throw error
      this.#logger.warn(
        { err: describe(error) },
        'L3 unreachable at start: starting degraded, writes are parked in the write-ahead log',
      )
    }
  }

  /**
   * What needs L3 once it is connected: the payload limit it imposes, the clock (versions keep
   * increasing across restarts: never issue one below what L3 holds) and the existence filter.
   */
  async #warmFromL3(): Promise<void> {
    this.#refreshPayloadLimit()
    this.#clock.observe(await this.#l3!.maxVersion())
    if (this.#config.l3SingleWriter) await this.#buildFilter()
  }

  /**
   * Rebuilds the existence filter from a keyset scan of L3's ids (and the ids L2 holds, which
   * include the cache-only items this engine wrote). Writes applied during the scan are added by
   * the flush as usual, so the finished filter misses none; only then is it trusted.
   */
  async #buildFilter(): Promise<void> {
    const filter = new ExistenceFilter({ expectedIds: 1 << 16 })
    this.#filterTrusted = false
    this.#filter = filter
    for await (const page of scanIdPages(this.#l3!)) for (const id of page) filter.add(id)
    if (this.#l2) {
      let cursor: string | null | undefined
      do {
        const page = await this.#l2.scanPrefix('', cursor ? { cursor, limit: 10_000 } : { limit: 10_000 })
        for (const id of page.ids) filter.add(id)
        cursor = page.cursor
      } while (cursor)
    }
    if (this.#filter === filter) this.#filterTrusted = true
    this.#logger.info({ ids: filter.size }, 'existence filter built')
  }

  /**
   * State `draining-wal`: writes a previous process logged but did not store are written to their
   * tiers now (version-guarded: an old logged copy never overwrites a newer stored write). What
   * cannot be stored yet (L3 unreachable) stays in the log, parked, and readable.
   */
  async #replayLog(): Promise<void> {
    const { entries } = this.#wal!.stats()
    if (entries === 0) return
    this.#logger.info({ entries }, 'replaying the write-ahead log')
    if (this.#l3Connected || !this.#l3) {
      try {
        await this.#drainLog()
      } catch (error) {
        this.#logger.warn({ err: describe(error) }, 'log replay stopped; the rest stays parked')
      }
    }
    await this.#indexParked()
  }

  /**
   * Marks every write still in the log as parked (so reads find it) and moves the clock past it.
   * While the memory budget has room the writes themselves are read and held, so the drain when L3
   * returns need not read them again; past it, only the keys.
   */
  async #indexParked(): Promise<void> {
    const log = this.#wal!
    let afterSeq = 0
    for (;;) {
      const hold = this.#parked.hasRoom || !log.keys
      const page: readonly (WalKey & { write?: LoggedWrite })[] = hold
        ? (await log.read(afterSeq, DRAIN_BATCH)).map(({ seq, write }) => ({
            seq,
            id: write.id,
            version: write.version,
            write,
          }))
        : await log.keys!(afterSeq, DRAIN_BATCH)
      const last = page[page.length - 1]
      if (last === undefined) return
      for (const { id, version, write } of page) {
        this.#clock.observe(version)
        this.#parked.mark(id, version, write)
      }
      afterSeq = last.seq
    }
  }

  /**
   * Flushes everything pending, closes the tiers and ends in `stopped`. Idempotent: later calls
   * return the first call's promise. Without a start it just marks the engine stopped.
   */
  shutdown(): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise
    this.#shutdownPromise = this.#shutdown()
    return this.#shutdownPromise
  }

  async #shutdown(): Promise<void> {
    if (this.#state === 'created') {
      // Never started, but the stores may already hold connections (a connected Redis client).
      await this.#closeStores()
      this.#setState('stopped')
      return
    }
    await this.#startPromise?.catch(() => {})
    if (this.#state === 'failed') return
    this.#setState('stopping')
    this.#queue.close()
    this.#detachMetrics?.()
    if (this.#maintenanceTimer !== undefined) this.#platform.clearTimer(this.#maintenanceTimer)
    this.#maintenanceTimer = undefined
    await this.#maintenance
    let unflushed = 0
    for (let attempt = 0; attempt < SHUTDOWN_FLUSH_ATTEMPTS && this.#queue.depth > 0; attempt++) {
      // Without a log, memory is the writes' only copy: try the tiers again even if a breaker is
      // open (with a log, an open L3 breaker parks the writes there, durably).
      if (!this.#wal) for (const breaker of Object.values(this.#breakers)) breaker.reset()
      const outcome = await this.#queue.flush()
      unflushed = outcome.failed.size
    }
    await this.#removeSettled()
    await this.#closeStores()
    if (this.#queue.depth > 0) {
      this.#setState('failed')
      throw new FlushError(
        `shutdown could not flush ${Math.max(unflushed, this.#queue.depth)} pending writes`,
      )
    }
    this.#setState('stopped')
  }

  /** Closes every store; the log last: writes parked during the shutdown flush are in it. */
  async #closeStores(): Promise<void> {
    await this.#l3
      ?.close()
      .catch((error) => this.#logger.error({ err: describe(error) }, 'closing L3 failed'))
    await this.#l2
      ?.close()
      .catch((error) => this.#logger.error({ err: describe(error) }, 'closing L2 failed'))
    await this.#wal
      ?.close()
      .catch((error) => this.#logger.error({ err: describe(error) }, 'closing the log failed'))
  }

  #setState(next: EngineState) {
    const previous = this.#state
    if (previous === next) return
    this.#state = next
    for (const listener of this.#listeners) listener(next, previous)
  }

  #assertReady(operation: string) {
    if (this.#state !== 'ready') throw new EngineStateError(this.#state, operation)
  }

  // ── writes ───────────────────────────────────────────────────────────────────────────────────

  /** Writes one item. Resolves once the write reached its ack level (see `AckLevel`). */
  async submit(item: SyncItem, options?: SubmitOptions): Promise<SubmitReceipt> {
    this.#assertReady('submit')
    this.#metrics.operation('submit')
    await this.#admitWrites(options)
    const write = this.#prepareWrite(item, options)
    const ack = this.#ackLevel(options?.ack)
    if (ack === 'logged') await this.#log([write])
    const done = this.#enqueue(write, ack)
    if (ack === 'stored') await settle(done, write.id)
    return { id: write.id, version: write.version, ack }
  }

  /** Writes many items; each is validated on its own, so one bad item never blocks the others. */
  async submitMany(
    items: readonly SyncItem[],
    options?: SubmitOptions,
  ): Promise<BulkResult<SubmitReceipt>[]> {
    this.#assertReady('submitMany')
    this.#metrics.operation('submitMany')
    await this.#admitWrites(options)
    return this.#writeEach(items, options, (item) => this.#prepareWrite(item, options), idOf)
  }

  /** Deletes with a tombstone: a delayed older write can never bring the item back. */
  async delete(id: string, options?: Pick<SubmitOptions, 'ack'>): Promise<DeleteReceipt> {
    this.#assertReady('delete')
    this.#metrics.operation('delete')
    await this.#admitWrites(undefined)
    const write = this.#prepareDelete(id, options)
    const ack = this.#ackLevel(options?.ack)
    if (ack === 'logged') await this.#log([write])
    const done = this.#enqueue(write, ack)
    if (ack === 'stored') await settle(done, id)
    return { id, version: write.version, ack }
  }

  async deleteMany(
    ids: readonly string[],
    options?: Pick<SubmitOptions, 'ack'>,
  ): Promise<BulkResult<DeleteReceipt>[]> {
    this.#assertReady('deleteMany')
    this.#metrics.operation('deleteMany')
    await this.#admitWrites(undefined)
    return this.#writeEach(ids, options, (id) => this.#prepareDelete(id, options), String)
  }

  /**
   * Prepares each input on its own (a bad one gets its typed error, the others go on), logs the
   * good ones in one append for `logged`, queues them, and for `stored` waits for every flush and
   * records the writes that did not make it.
   */
  async #writeEach<I>(
    inputs: readonly I[],
    options: Pick<SubmitOptions, 'ack'> | undefined,
    prepare: (input: I) => QueuedWrite,
    nameOf: (input: I) => string,
  ): Promise<BulkResult<SubmitReceipt>[]> {
    const ack = this.#ackLevel(options?.ack)
    const prepared: { index: number; write: QueuedWrite }[] = []
    const results: BulkResult<SubmitReceipt>[] = inputs.map((input, index) => {
      try {
        const write = prepare(input)
        prepared.push({ index, write })
        return { ok: true, id: write.id, value: { id: write.id, version: write.version, ack } }
      } catch (error) {
        return { ok: false, id: nameOf(input), error: asSyncError(error) }
      }
    })
    if (ack === 'logged' && prepared.length > 0) {
      try {
        await this.#log(prepared.map(({ write }) => write))
      } catch (error) {
        // Nothing of the append was logged (all or nothing), so none of these writes happened.
        for (const { index, write } of prepared) {
          results[index] = { ok: false, id: write.id, error: asSyncError(error) }
        }
        return results
      }
    }
    const waits: Promise<void>[] = []
    for (const { index, write } of prepared) {
      const done = this.#enqueue(write, ack)
      if (ack !== 'stored') continue
      waits.push(
        done.then((outcome) => {
          const error = failureOf(outcome, write.id)
          if (error) results[index] = { ok: false, id: write.id, error }
        }),
      )
    }
    await Promise.all(waits)
    return results
  }

  /**
   * Backpressure, before any side effect of the write: evicts L1 down (warn and up), delays the
   * write (throttle), or refuses it with `BackpressureError` (cache-only at critical, every write at
   * emergency). A write that fails validation is refused by validation, not counted here.
   */
  async #admitWrites(options: SubmitOptions | undefined): Promise<void> {
    // The hot path: well under every threshold, the level is normal whatever its history, so it
    // need not be recomputed (that allocates) on every submit.
    if (this.#pressure.level === 'normal' && this.#queue.bytes < this.#config.queueMaxBytes / 2) {
      const wal = this.#wal?.stats()
      if (wal === undefined || wal.bytes < wal.maxBytes / 2) return
    }
    this.#updatePressure()
    if (this.#pressure.level === 'normal') return
    const target = this.#pressure.l1ShrinkTarget()
    if (target !== undefined) this.#l1.shrinkTo(target)
    const cacheOnly = options?.sql === false || this.#l3 === undefined
    const { delayMs } = this.#pressure.admit({ cacheOnly })
    if (delayMs > 0) await new Promise<void>((resolve) => this.#platform.setTimer(resolve, delayMs))
  }

  #updatePressure(): void {
    this.#pressure.update(this.#pressureInputs())
  }

  #pressureInputs(): PressureInputs {
    const wal = this.#wal?.stats()
    return {
      l1: { bytes: this.#l1.bytes, budget: this.#l1.maxBytes },
      queue: { bytes: this.#queue.bytes, budget: this.#config.queueMaxBytes },
      ...(wal && { log: { bytes: wal.bytes, budget: wal.maxBytes } }),
    }
  }

  /**
   * Queues a prepared write. A logged write was prepared before its append: a read in between
   * found it nowhere (not yet queued) and may have put an older version into L1. Now that it is
   * visible, it replaces such an entry, and reads still in flight learn of it.
   */
  #enqueue(write: QueuedWrite, ack: AckLevel): Promise<FlushOutcome> {
    const done = this.#queue.enqueue(write)
    if (ack === 'logged') {
      this.#supersedeInL1(write)
      this.#races.noteWrite(write.id)
    }
    return done
  }

  /** Appends writes to the log (group-committed with every other append of this tick). */
  async #log(writes: readonly QueuedWrite[]): Promise<void> {
    await this.#wal!.append(writes)
    this.#metrics.walAppended(writes.length)
    for (const write of writes) this.#logged.add(write)
  }

  #prepareWrite(item: SyncItem, options: SubmitOptions | undefined): QueuedWrite {
    if (!(item instanceof SyncItem)) throw new InvalidArgumentError('submit takes a SyncItem')
    if (options !== undefined) validateSubmitOptions(options)
    const size = item.content.byteLength
    if (size > this.#payloadLimit) throw new PayloadTooLargeError(size, this.#payloadLimit)
    const route = this.#route(options)
    const callerVersioned = item.version > 0
    const version = this.#nextVersion(item.version)
    const updatedAt = callerVersioned ? this.#platform.now() : versionTimeMs(version)
    let stored = item.withVersion(version, updatedAt)
    if (options?.state !== undefined) stored = stored.withState(options.state)
    const write: QueuedWrite = {
      id: stored.id,
      version,
      updatedAt,
      item: stored,
      route,
      bytes: stored.footprintBytes,
      callerVersioned,
      expiresAt: this.#expiry(route.ttlMs, updatedAt),
    }
    this.#supersedeInL1(write)
    this.#races.noteWrite(write.id)
    return write
  }

  /** L1 must not go on serving a version older than this write (write-around: it is not admitted). */
  #supersedeInL1(write: QueuedWrite): void {
    if (!write.callerVersioned) {
      this.#l1.replaceIfPresent(write)
      return
    }
    // Possibly older than what L3 holds: not served from L1 until a read compared it with L3;
    // an older L1 entry must not be served either.
    const cached = this.#l1.peek(write.id)
    if (cached !== undefined && cached.version < write.version) this.#l1.delete(write.id)
  }

  /**
   * The payload limit: the configured one, or less where L3 cannot store that much in one row
   * (MariaDB's default max_allowed_packet is 16 MiB, a little under a 16 MiB item plus its row).
   * Known once L3 is connected; recomputed on reconfigure.
   */
  #refreshPayloadLimit(): void {
    const l3Limit = this.#l3?.capabilities.maxContentBytes
    const configured = this.#config.maxPayloadBytes
    this.#payloadLimit = l3Limit !== undefined && l3Limit < configured ? l3Limit : configured
  }

  #prepareDelete(id: string, options: Pick<SubmitOptions, 'ack'> | undefined): QueuedWrite {
    validateId(id)
    if (options !== undefined) validateSubmitOptions(options)
    if (!this.#l3 && !this.#l2) throw new NoTierError('no tier is configured to record the delete')
    const version = this.#clock.next()
    const updatedAt = versionTimeMs(version)
    const write: QueuedWrite = {
      id,
      version,
      updatedAt,
      item: null,
      route: this.#tombstoneRoute,
      bytes: 0,
      callerVersioned: false,
      expiresAt: this.#expiry(undefined, updatedAt),
    }
    const tombstone = { ...write, bytes: l1EntryBytes(write) }
    this.#l1.replaceIfPresent(tombstone)
    this.#races.noteWrite(id)
    return tombstone
  }

  #nextVersion(callerVersion: number): number {
    if (callerVersion > 0) {
      this.#clock.observe(callerVersion)
      return callerVersion
    }
    return this.#clock.next()
  }

  #route(options: SubmitOptions | undefined): Route {
    const wantsL2 = options?.redis ?? true
    const wantsL3 = options?.sql ?? true
    const l2 = wantsL2 && this.#l2 !== undefined
    const l3 = wantsL3 && this.#l3 !== undefined
    if (!l2 && !l3) {
      const asked = [wantsL2 && 'redis', wantsL3 && 'sql'].filter(Boolean).join(' and ') || 'no tier'
      throw new NoTierError(`write is routed to ${asked}, which this engine does not have`)
    }
    const ttlMs = options?.redisTtl
    if (ttlMs === undefined && l3) return l2 ? L2_AND_L3 : L3_ONLY
    return { l2, l3, ttlMs }
  }

  #expiry(ttlMs: number | undefined, now: number): number {
    const ttl = ttlMs ?? this.#config.l1TtlMs
    return ttl === undefined ? 0 : now + ttl
  }

  #ackLevel(requested: AckLevel | undefined): AckLevel {
    const level = requested ?? this.#config.defaultAck
    // No durable log: `logged` is served by the stronger `stored`.
    return level === 'logged' && !this.#wal ? 'stored' : level
  }

  /**
   * Writes one batch to its tiers: L3 first (the ground truth), then L2 in one pipeline, so L2
   * never holds a write that L3 refused or has not committed. Called by the write queue, one
   * batch at a time; a throw re-queues the whole batch (replays are safe: every write is
   * version-guarded). While L3 is unreachable (circuit open, or never connected) and a log
   * exists, the L3-bound writes are parked in the log instead and drain when L3 returns.
   */
  async #writeBatch(batch: readonly QueuedWrite[]): Promise<FlushOutcome> {
    const started = this.#platform.now()
    try {
      const outcome = await this.#writeBatchToTiers(batch)
      this.#updatePressure()
      this.#metrics.recordFlush(batch.length, this.#platform.now() - started, outcome.failed.size === 0)
      return outcome
    } catch (error) {
      this.#metrics.recordFlush(batch.length, this.#platform.now() - started, false)
      throw error
    }
  }

  async #writeBatchToTiers(batch: readonly QueuedWrite[]): Promise<FlushOutcome> {
    const toL3 = this.#l3 ? batch.filter((write) => write.route.l3) : []
    let rejected: ReadonlyMap<string, Error> | undefined
    let parked: Map<string, Error> | undefined
    if (toL3.length > 0) {
      try {
        rejected = await this.#writeL3(toL3)
      } catch (error) {
        if (!this.#wal || !(isOutage(error) || this.#breakers.l3.state !== 'closed')) throw error
        await this.#park(toL3)
        const reason = error instanceof Error ? error : new Error(String(error))
        parked = new Map(toL3.map((write) => [write.id, reason]))
      }
    }
    const committed =
      rejected || parked ? batch.filter((write) => !rejected?.has(write.id) && !parked?.has(write.id)) : batch
    const failed = await this.#writeL2(committed)
    await this.#forgetLogged(failed.size > 0 ? committed.filter((w) => !failed.has(w.id)) : committed)
    await this.#maybePurgeTombstones()
    return {
      written: committed.length - failed.size,
      failed,
      ...(rejected && { rejected }),
      ...(parked && { parked }),
    }
  }

  /**
   * The L3 part of a flush or drain, through L3's breaker. Returns the ids L3 refused for good;
   * throws when L3 is unreachable (or fails), having written nothing the caller can count on.
   */
  async #writeL3(
    writes: readonly LoggedWrite[],
    { invalidateL1 = false } = {},
  ): Promise<ReadonlyMap<string, Error> | undefined> {
    if (!this.#l3Connected) throw new L3UnavailableError()
    const l3 = this.#l3!
    const liveBefore = this.#filterTrusted ? await this.#liveTombstoned(writes) : undefined
    const options = invalidateL1 ? { reportStale: false } : undefined
    const result: L3WriteResult = await this.#call('l3', 'write', () =>
      l3.write(writes.map(recordOf), options),
    )
    // The guard kept a newer stored version: L1 must not go on serving the older one. A drain
    // does not ask which (MySQL would read every version back): it drops L1's copies of exactly
    // the versions it wrote, and the next read of those ids asks the tiers.
    if (invalidateL1) this.#dropVersionsFromL1(writes)
    else this.#dropFromL1(result.stale, writes)
    const rejected = result.rejected && result.rejected.size > 0 ? result.rejected : undefined
    if (rejected) {
      // Refused for good (e.g. larger than the server's packet limit): never stored, so never served.
      this.#dropFromL1([...rejected.keys()], writes)
      for (const [id, error] of rejected) {
        this.#logger.error(
          { id, err: error.message },
          'L3 refused a write; it is dropped and not acknowledged',
        )
      }
    }
    this.#updateFilter(writes, rejected, liveBefore)
    return rejected
  }

  /**
   * The L2 part of a flush or drain. Returns the writes that failed and must be retried: only
   * cache-only ones. A write L3 already stored is not failed when L2 misses it; its id is marked
   * instead (L2 may hold an older copy), reads skip L2 for it, and reconciliation drops that copy.
   */
  async #writeL2(writes: readonly LoggedWrite[]): Promise<Map<string, Error>> {
    const failed = new Map<string, Error>()
    const l2 = this.#l2
    if (!l2 || writes.length === 0) return failed
    const now = this.#platform.now()
    const entries: L2WriteEntry[] = []
    const sent: LoggedWrite[] = []
    // A write to L3 only (durable) makes any L2 copy of its id older than the truth: drop it,
    // so L2 cannot serve a version below one already stored. The next read back-fills L2.
    const bypassed: LoggedWrite[] = []
    for (const write of writes) {
      if (!write.route.l2) {
        if (write.route.l3) bypassed.push(write)
        continue
      }
      const entry = l2EntryOf(write, now)
      if (entry) {
        entries.push(entry)
        sent.push(write)
      }
    }
    if (entries.length > 0) {
      try {
        const result = await this.#call('l2', 'write', () => l2.write(entries))
        this.#dropFromL1(result.stale, writes)
        for (const write of sent) this.#l2Stale.clearUpTo(write.id, write.version)
      } catch (error) {
        this.#l2Missed(sent, error, failed)
      }
    }
    if (bypassed.length > 0) {
      try {
        await this.#call('l2', 'delete', () => l2.delete(bypassed.map((write) => write.id)))
        for (const write of bypassed) this.#l2Stale.clearUpTo(write.id, write.version)
      } catch (error) {
        this.#l2Missed(bypassed, error, failed)
      }
    }
    return failed
  }

  #l2Missed(writes: readonly LoggedWrite[], error: unknown, failed: Map<string, Error>): void {
    const failure = error instanceof Error ? error : new Error(String(error))
    let marked = 0
    for (const write of writes) {
      if (write.route.l3) {
        this.#l2Stale.mark(write.id, write.version)
        marked++
      } else failed.set(write.id, failure)
    }
    this.#logger.warn(
      { err: failure.message, marked, retried: writes.length - marked },
      'L2 write failed: stored writes are reconciled when L2 returns, cache-only writes are retried',
    )
    if (marked > 0) this.#scheduleMaintenance()
  }

  /** Keeps L3-bound writes durable in the log while L3 is unreachable; reads find them there. */
  async #park(writes: readonly QueuedWrite[]): Promise<void> {
    const unlogged = writes.filter((write) => !this.#logged.has(write))
    // A full log throws: the batch then stays queued in memory (nothing is dropped).
    if (unlogged.length > 0) {
      await this.#wal!.append(unlogged)
      this.#metrics.walAppended(unlogged.length)
    }
    for (const write of writes) {
      this.#logged.add(write)
      this.#parked.mark(write.id, write.version, write)
    }
    this.#logger.warn({ writes: writes.length }, 'L3 unavailable: writes parked in the write-ahead log')
    this.#scheduleMaintenance()
  }

  /** Stored writes leave the log (with any older parked entry of their id). */
  async #forgetLogged(stored: readonly QueuedWrite[]): Promise<void> {
    if (!this.#wal) return
    const settled: { id: string; version: number }[] = []
    for (const write of stored) {
      const parked = write.route.l3 && this.#parked.has(write.id)
      if (!this.#logged.has(write) && !parked) continue
      settled.push({ id: write.id, version: write.version })
      if (parked) this.#parked.clearUpTo(write.id, write.version)
    }
    if (settled.length === 0) return
    for (const write of settled) this.#settledInLog.push(write)
    if (this.#settledInLog.length >= REMOVE_BATCH) await this.#removeSettled()
    else this.#scheduleMaintenance()
  }

  async #removeSettled(): Promise<void> {
    const settled = this.#settledInLog
    if (settled.length === 0 || !this.#wal) return
    this.#settledInLog = []
    try {
      await this.#wal.remove(settled)
      this.#metrics.walDrained(settled.length)
    } catch (error) {
      // Left in the log, they are replayed later: harmless, every tier write is version-guarded.
      this.#logger.warn({ err: describe(error) }, 'removing stored writes from the log failed')
    }
  }

  /**
   * Drains the log into the tiers in full batches, oldest first, removing what was stored. One
   * drain at a time; a drain stops at the first L3 failure (the rest stays parked).
   */
  #drainLog(): Promise<number> {
    this.#draining ??= this.#drainSteps().finally(() => {
      this.#draining = undefined
    })
    return this.#draining
  }

  async #drainSteps(): Promise<number> {
    const log = this.#wal!
    const progress: DrainProgress = { drained: 0, keptAny: false, settled: [] }
    let throughSeq = 0
    // Two steps in flight: while L3 stores one page (its own transaction, rows in id order, so the
    // two cannot deadlock; versions decide between them), the next is read and sent.
    let previous: Promise<void> | undefined
    let page = await this.#drainPage(log, 0)
    try {
      while (page.lastSeq > 0) {
        throughSeq = page.lastSeq
        // Until the breaker has closed, the step in flight is its probe: a second would be refused.
        if (previous && this.#breakers.l3.state !== 'closed') {
          await previous
          previous = undefined
        }
        const step = this.#drainStep(page.entries, progress)
        step.catch(() => {}) // awaited below; this only keeps a failure from going unobserved meanwhile
        const next = page.full
          ? this.#later(() => this.#drainPage(log, throughSeq))
          : Promise.resolve(EMPTY_PAGE)
        if (previous) await previous
        previous = step
        page = await next
        if (page.lastSeq > 0) this.#logger.info({ drained: progress.drained }, 'draining the write-ahead log')
      }
      await previous
    } catch (error) {
      await previous?.catch(() => {})
      throw error
    }
    // Every entry up to the last one read was stored (entries appended meanwhile come after it):
    // one range delete. Otherwise by id, keeping the entries that still wait for L2.
    if (!progress.keptAny && throughSeq > 0) {
      await log.removeThrough(throughSeq)
      this.#metrics.walDrained(progress.settled.length)
    } else {
      for (const write of progress.settled) this.#settledInLog.push(write)
      await this.#removeSettled()
    }
    if (progress.drained > 0) this.#logger.info({ drained: progress.drained }, 'write-ahead log drained')
    return progress.drained
  }

  /**
   * The next page of the log after `afterSeq`. While parked writes are held in memory, only the
   * page's keys are read, and just the entries not held (or not held at that version) are read in
   * full; otherwise the page is read whole.
   */
  async #drainPage(log: WriteAheadLog, afterSeq: number): Promise<DrainPage> {
    if (!log.keys || !log.readSeqs || this.#parked.heldCount === 0) {
      const entries = await log.read(afterSeq, DRAIN_BATCH)
      return { entries, lastSeq: entries.at(-1)?.seq ?? 0, full: entries.length === DRAIN_BATCH }
    }
    const keys = await log.keys(afterSeq, DRAIN_BATCH)
    const entries: WalEntry[] = []
    const missing: number[] = []
    for (const { seq, id, version } of keys) {
      const write = this.#parked.held(id, version)
      if (write !== undefined) entries.push({ seq, write })
      else missing.push(seq)
    }
    if (missing.length > 0) {
      // Entries removed since the keys were read were stored meanwhile: they do not come back.
      entries.push(...(await log.readSeqs(missing)))
      entries.sort((a, b) => a.seq - b.seq)
    }
    return { entries, lastSeq: keys.at(-1)?.seq ?? 0, full: keys.length === DRAIN_BATCH }
  }

  /** One page of the log into the tiers; what was stored is no longer parked. */
  async #drainStep(entries: readonly WalEntry[], progress: DrainProgress): Promise<void> {
    // The newest entry of each id; the logged writes themselves go to the tiers (no copies).
    const newest = new Map<string, LoggedWrite>()
    for (const { write } of entries) {
      this.#clock.observe(write.version)
      const held = newest.get(write.id)
      if (held === undefined || held.version < write.version) newest.set(write.id, write)
    }
    const batch = [...newest.values()]
    const toL3 = this.#l3 ? batch.filter((write) => write.route.l3) : []
    const rejected = toL3.length > 0 ? await this.#writeL3(toL3, { invalidateL1: true }) : undefined
    const failed = await this.#writeL2(rejected ? batch.filter((w) => !rejected.has(w.id)) : batch)
    // Refused writes leave the log too (logged as errors above); cache-only ones L2 missed stay.
    const settled = failed.size > 0 ? batch.filter((write) => !failed.has(write.id)) : batch
    if (settled.length < batch.length) progress.keptAny = true
    for (const write of settled) {
      progress.settled.push(write)
      this.#parked.clearUpTo(write.id, write.version)
    }
    progress.drained += settled.length
    this.#drainedFromLog += settled.length
  }

  /** Drops L1's copy of each write's own version, if L1 holds exactly that version. */
  #dropVersionsFromL1(writes: readonly LoggedWrite[]) {
    if (this.#l1.count === 0) return
    for (const write of writes) this.#l1.deleteIfVersion(write.id, write.version)
  }

  /** Runs `work` in a later macrotask (after pending I/O callbacks and sends). */
  #later<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#platform.setTimer(() => work().then(resolve, reject), 0)
    })
  }

  /** Drops L1's copy of writes a tier kept a newer version of (or refused), if L1 still holds them. */
  #dropFromL1(ids: readonly string[], writes: readonly LoggedWrite[]) {
    if (ids.length === 0) return
    const versions = new Map(writes.map((write) => [write.id, write.version]))
    for (const id of ids) {
      const version = versions.get(id)
      if (version !== undefined) this.#l1.deleteIfVersion(id, version)
    }
  }

  // ── existence filter ────────────────────────────────────────────────────────────────────────

  /**
   * Ids this batch tombstones that are live in L3 now (one query per batch with deletes): only
   * those are removed from the filter, so a remove is always of a held id (guarantee (a) of
   * `ExistenceFilter`) — a delete of an id that never existed removes nothing.
   */
  async #liveTombstoned(writes: readonly LoggedWrite[]): Promise<Set<string> | undefined> {
    const ids = writes.filter((write) => write.item === null).map((write) => write.id)
    if (ids.length === 0) return undefined
    const records = await this.#call('l3', 'read', () => this.#l3!.read(ids))
    const live = new Set<string>()
    for (const [id, record] of records) if (!record.tombstone) live.add(id)
    return live
  }

  /** Adds every applied put (extra adds only cost false positives), removes deletes of live ids. */
  #updateFilter(
    writes: readonly LoggedWrite[],
    rejected: ReadonlyMap<string, Error> | undefined,
    liveBefore: Set<string> | undefined,
  ): void {
    const filter = this.#filter
    if (!filter) return
    for (const write of writes) {
      if (rejected?.has(write.id)) continue
      if (write.item !== null) filter.add(write.id)
      else if (liveBefore?.has(write.id)) filter.remove(write.id)
    }
  }

  /** Whether a trusted filter proves `id` absent from every tier (no backend call needed). */
  #certainlyAbsent(id: string): boolean {
    if (!this.#filterTrusted) return false
    this.#filterChecks++
    const absent = !this.#filter!.mightContain(id)
    if (absent) this.#metrics.filterCheck(false)
    return absent
  }

  // ── observability ───────────────────────────────────────────────────────────────────────────

  /** A tier call through its breaker (deadline, fail fast when open), timed for metrics. */
  async #call<T>(tier: BackendTier, operation: BackendOperation, call: () => Promise<T>): Promise<T> {
    const started = this.#platform.now()
    try {
      const value = await this.#breakers[tier].run(call, { operation })
      this.#metrics.backendCall(tier, operation, this.#platform.now() - started)
      return value
    } catch (error) {
      this.#metrics.backendCall(tier, operation, this.#platform.now() - started, false)
      throw error
    }
  }

  #observeMetrics(): void {
    this.#detachMetrics = this.#metrics.observe({
      l1: () => this.#l1,
      queue: () => this.#queue,
      wal: () => this.#wal?.stats(),
      filter: () => this.#filter,
      breakers: () =>
        [this.#l2 && this.#breakers.l2.stats(), this.#l3 && this.#breakers.l3.stats()].filter(
          (stats) => stats !== undefined,
        ),
      backpressureLevel: () => severity(this.#pressure.level),
      l2Reads: () => ({ corruptReads: this.#corruptL2Reads, failedReads: this.#failedL2Reads }),
    })
  }

  // ── recovery ────────────────────────────────────────────────────────────────────────────────

  /** Arms the maintenance timer while an outage left work behind. */
  #scheduleMaintenance(): void {
    if (this.#maintenanceTimer !== undefined || this.#state !== 'ready') return
    const waitingForL3 = (this.#l3 !== undefined && !this.#l3Connected) || this.#parked.size > 0
    const needed = waitingForL3 || this.#l2Stale.size > 0 || this.#settledInLog.length > 0
    if (!needed) return
    this.#maintenanceTimer = this.#platform.setTimer(
      () => {
        this.#maintenanceTimer = undefined
        this.#maintenance = this.#maintain().finally(() => {
          this.#maintenance = undefined
          this.#scheduleMaintenance()
        })
      },
      waitingForL3 ? RECOVERY_INTERVAL_MS : MAINTENANCE_INTERVAL_MS,
    )
  }

  /** Connects a late L3, drains parked writes, reconciles L2: each through its breaker (probes). */
  async #maintain(): Promise<void> {
    await this.#removeSettled()
    try {
      if (this.#l3 && !this.#l3Connected) await this.#connectLateL3()
      if (this.#l3Connected && this.#parked.size > 0 && this.#breakers.l3.state !== 'open') {
        await this.#drainLog()
      }
    } catch (error) {
      if (!(error instanceof CircuitOpenError)) {
        this.#logger.warn({ err: describe(error) }, 'L3 still unavailable; retrying')
      }
    }
    try {
      if (this.#l2Stale.size > 0 && this.#breakers.l2.state !== 'open') await this.#reconcileL2()
    } catch (error) {
      if (!(error instanceof CircuitOpenError)) {
        this.#logger.warn({ err: describe(error) }, 'L2 reconciliation failed; retrying')
      }
    }
  }

  /** Connects an L3 that was unreachable at start (once at a time; through its breaker). */
  #connectLateL3(): Promise<void> {
    this.#connecting ??= (async () => {
      await this.#breakers.l3.run(() => this.#l3!.init(), { operation: 'init' })
      await this.#warmFromL3()
      this.#l3Connected = true
      this.#logger.info({}, 'L3 connected')
    })().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  /**
   * Deletes the L2 copy of every id L2 missed a stored write of, so L2 never serves a version
   * older than an acknowledged write; the next read back-fills it from L3.
   */
  async #reconcileL2(): Promise<void> {
    const marks = this.#l2Stale.entries()
    for (let start = 0; start < marks.length; start += DRAIN_BATCH) {
      const chunk = marks.slice(start, start + DRAIN_BATCH)
      await this.#call('l2', 'delete', () => this.#l2!.delete(chunk.map(([id]) => id)))
      for (const [id, version] of chunk) this.#l2Stale.clearUpTo(id, version)
    }
    this.#logger.info({ ids: marks.length }, 'L2 reconciled after an outage')
  }

  #degradedTiers(): ('l2' | 'l3' | 'wal')[] {
    const degraded: ('l2' | 'l3' | 'wal')[] = []
    if (this.#l2 && (this.#breakers.l2.state !== 'closed' || this.#l2Stale.size > 0)) degraded.push('l2')
    if (this.#l3 && (!this.#l3Connected || this.#breakers.l3.state !== 'closed' || this.#parked.size > 0)) {
      degraded.push('l3')
    }
    return degraded
  }

  async #maybePurgeTombstones() {
    const now = this.#platform.now()
    if (!this.#l3 || now - this.#lastPurgeAt < TOMBSTONE_PURGE_INTERVAL_MS) return
    this.#lastPurgeAt = now
    try {
      const purged = await this.#l3.purgeTombstones(now - this.#config.tombstoneRetentionMs)
      if (purged > 0) this.#logger.info({ purged }, 'purged expired tombstones')
    } catch (error) {
      this.#logger.warn({ err: describe(error) }, 'tombstone purge failed; retried later')
    }
  }

  /** Flushes every queued write now. Throws `FlushError` if some could not be written (they stay queued). */
  async flush(): Promise<FlushReport> {
    this.#assertReady('flush')
    this.#metrics.operation('flush')
    const outcome = await this.#queue.flush()
    if (outcome.rejected && outcome.rejected.size > 0) {
      const [id, first] = outcome.rejected.entries().next().value as [string, Error]
      throw new FlushError(
        `${outcome.rejected.size} writes were refused by L3 (first ${JSON.stringify(id)}: ${first.message})`,
        {
          cause: first,
        },
      )
    }
    if (outcome.failed.size > 0) {
      const first = outcome.failed.values().next().value as Error
      throw new FlushError(`${outcome.failed.size} writes could not be flushed: ${first.message}`, {
        cause: first,
      })
    }
    return { written: outcome.written, pending: this.#queue.depth }
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────

  /** The newest version of the item, or undefined if it does not exist (or was deleted). */
  async get(id: string): Promise<SyncItem | undefined> {
    if (this.#state !== 'ready') throw new EngineStateError(this.#state, 'get')
    this.#metrics.operation('get')
    const entry = this.#l1.get(id)
    this.#metrics.tierRead('l1', entry !== undefined)
    if (entry !== undefined) return entry.item ?? undefined
    validateId(id)
    // Certainly absent (nothing pending, a trusted filter says no): answered without a tier call.
    if (this.#filterTrusted && !this.#parked.has(id) && this.#queue.lookup(id) === undefined) {
      if (this.#certainlyAbsent(id)) return undefined
    }
    return this.#readThrough(id)
  }

  async #readThrough(id: string): Promise<SyncItem | undefined> {
    const ticket = this.#races.begin()
    try {
      const pending = await this.#pendingWrite(id)
      if (pending && !pending.callerVersioned) {
        this.#metrics.tierRead(this.#queue.lookup(id) === pending ? 'queue' : 'wal', true)
        if (pending.expiresAt !== 0 && pending.expiresAt <= this.#platform.now()) {
          // Its TTL ran out before the flush: a cache-only write is gone; L3 keeps a durable one.
          return pending.route.l3 ? (pending.item ?? undefined) : undefined
        }
        // Writes go around L1; the first read of a pending write makes it hot — unless a newer
        // write of the id came while this read waited (for the log), which L1 would then hide.
        if (!this.#races.raced(ticket, id)) this.#l1.set(pending)
        return pending.item ?? undefined
      }
      const fromL2 = this.#l2 && !this.#l2Stale.has(id) ? (await this.#readL2([id])).get(id) : undefined
      if (this.#l2) this.#metrics.tierRead('l2', fromL2 !== undefined)
      if (fromL2 !== undefined && !(pending && pending.version > fromL2.version)) {
        return this.#admit(ticket, id, fromL2)
      }
      const record = this.#l3 ? (await this.#readL3([id])).get(id) : undefined
      if (this.#l3) this.#metrics.tierRead('l3', record !== undefined)
      if (this.#filterTrusted) {
        const falsePositive = !record && !fromL2
        if (falsePositive) this.#filterFalsePositives++
        this.#metrics.filterCheck(true, falsePositive)
      }
      this.#backfillL2(record ? [record] : [])
      return this.#admit(ticket, id, record ?? fromL2)
    } finally {
      this.#races.end(ticket)
    }
  }

  /** The newest write of `id` not yet stored: queued in memory, or parked in the log. */
  async #pendingWrite(id: string): Promise<LoggedWrite | undefined> {
    const queued = this.#queue.lookup(id)
    if (queued !== undefined) return queued
    const parked = this.#parked.get(id)
    if (parked === undefined) return undefined
    return this.#parked.held(id, parked) ?? this.#wal!.latest(id)
  }

  /**
   * Takes a record read from a tier, preferring a newer write that arrived during the read, and
   * back-fills L1 with live items (expiring with the record's own expiry, if it has one) — unless
   * a write of the id raced the read.
   */
  #admit(ticket: number, id: string, record: StoredRecord | undefined): SyncItem | undefined {
    const pending = this.#queue.lookup(id)
    // Strictly newer: at an equal version every tier keeps the first writer.
    if (pending && (!record || pending.version > record.version)) return pending.item ?? undefined
    // HLC rule: a version seen from elsewhere (another writer of the same L3) moves our clock past it.
    if (record) this.#clock.observe(record.version)
    if (!record || record.tombstone) return undefined
    const now = this.#platform.now()
    if (record.expiresAt !== undefined && record.expiresAt <= now) return undefined
    const item = itemOf(record)
    if (this.#races.raced(ticket, id)) return item
    const expiresAt = earliest(this.#expiry(undefined, now), record.expiresAt ?? 0)
    this.#l1.set({ id, item, version: item.version, expiresAt })
    return item
  }

  /**
   * Live L2 records by id. A corrupt value is a miss (counted; L3's copy is written back over it);
   * an L2 that does not answer (or whose circuit is open) is skipped (counted) and L3 answers.
   */
  async #readL2(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    const records = new Map<string, StoredRecord>()
    let values: Awaited<ReturnType<L2Store['read']>>
    try {
      values = await this.#call('l2', 'read', () => this.#l2!.read(ids))
    } catch (error) {
      this.#failedL2Reads++
      if (!(error instanceof CircuitOpenError)) {
        this.#logger.warn({ err: describe(error) }, 'L2 read failed; reading L3')
      }
      return records
    }
    const corrupt: string[] = []
    for (const [id, value] of values) {
      if (isCorrupt(value)) {
        this.#corruptL2Reads++
        corrupt.push(id)
        this.#logger.warn({ id, reason: value.reason }, 'corrupt L2 value; served from L3 and repaired')
      } else records.set(id, value)
    }
    // Drop the damaged values before the back-fill: a value whose header still looks sound (say, a
    // forged higher version) would otherwise make the version guard refuse the repair forever.
    if (corrupt.length > 0) {
      await this.#call('l2', 'delete', () => this.#l2!.delete(corrupt)).catch((error: unknown) =>
        this.#logger.warn({ err: describe(error) }, 'dropping corrupt L2 values failed'),
      )
    }
    return records
  }

  /** Writes L3 records back to L2 in the background (version-guarded, so never over a newer write). */
  #backfillL2(records: readonly StoredRecord[]) {
    const l2 = this.#l2
    if (!l2 || records.length === 0 || this.#breakers.l2.state !== 'closed') return
    const entries = records.map((record) => ({ record, repair: true }))
    const work = this.#call('l2', 'write', () => l2.write(entries)).then(
      () => {},
      (error) => this.#logger.warn({ err: describe(error) }, 'L2 back-fill failed'),
    )
    this.#platform.waitUntil?.(work)
  }

  async #readL3(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    try {
      // A read need not wait for the maintenance tick to find a returned L3.
      if (!this.#l3Connected) await this.#connectLateL3()
      return await this.#call('l3', 'read', () => this.#l3!.read(ids))
    } catch (error) {
      throw error instanceof SyncError ? error : new BackendError('l3', describe(error), { cause: error })
    }
  }

  /** Items in the order of `ids` (undefined where absent): one L3 query for all L1 misses. */
  async getMany(ids: readonly string[]): Promise<(SyncItem | undefined)[]> {
    this.#assertReady('getMany')
    this.#metrics.operation('getMany')
    const results: (SyncItem | undefined)[] = new Array(ids.length)
    const misses: string[] = []
    const parked: string[] = []
    ids.forEach((id, index) => {
      const entry = this.#l1.get(id)
      if (entry !== undefined) {
        results[index] = entry.item ?? undefined
        return
      }
      validateId(id)
      const pending = this.#queue.lookup(id)
      if (pending && !pending.callerVersioned) results[index] = pending.item ?? undefined
      else if (this.#parked.has(id)) parked.push(id)
      else if (!pending && this.#certainlyAbsent(id)) results[index] = undefined
      else misses.push(id)
    })
    if (parked.length > 0) {
      // Held only by the log (L3 unreachable): read your writes from there.
      const fromLog = new Map<string, SyncItem | undefined>()
      for (const id of new Set(parked)) {
        const write = await this.#pendingWrite(id)
        if (write && !write.callerVersioned) fromLog.set(id, write.item ?? undefined)
        else misses.push(id)
      }
      ids.forEach((id, index) => {
        if (fromLog.has(id)) results[index] = fromLog.get(id)
      })
    }
    if (misses.length === 0) return results
    const ticket = this.#races.begin()
    try {
      const records = new Map<string, StoredRecord>()
      const l2Ids = this.#l2Stale.size > 0 ? misses.filter((id) => !this.#l2Stale.has(id)) : misses
      if (this.#l2 && l2Ids.length > 0) {
        for (const [id, record] of await this.#readL2(l2Ids)) records.set(id, record)
      }
      const l3Misses = misses.filter((id) => !records.has(id))
      if (l3Misses.length > 0 && this.#l3) {
        const fromL3 = await this.#readL3(l3Misses)
        for (const [id, record] of fromL3) records.set(id, record)
        this.#backfillL2([...fromL3.values()])
      }
      const missing = new Set(misses)
      const admitted = new Map<string, SyncItem | undefined>()
      ids.forEach((id, index) => {
        if (!missing.has(id)) return
        if (!admitted.has(id)) admitted.set(id, this.#admit(ticket, id, records.get(id)))
        results[index] = admitted.get(id)
      })
      return results
    } finally {
      this.#races.end(ticket)
    }
  }

  async contains(id: string): Promise<boolean> {
    return (await this.get(id)) !== undefined
  }

  /** Where the item is: pending in the queue, synced (and in which tiers), or missing. */
  async status(id: string): Promise<ItemStatus> {
    this.#assertReady('status')
    this.#metrics.operation('status')
    validateId(id)
    const pending = await this.#pendingWrite(id)
    if (pending) return { kind: 'pending', version: pending.version, deleted: pending.item === null }
    const inL1 = this.#l1.peek(id)
    const [inL2, record] = await Promise.all([
      this.#l2 ? this.#readL2([id]).then((found) => found.get(id)) : undefined,
      this.#l3 ? this.#readL3([id]).then((found) => found.get(id)) : undefined,
    ])
    const now = this.#platform.now()
    const l3 = record !== undefined && !record.tombstone
    const l2 =
      inL2 !== undefined && !inL2.tombstone && !(inL2.expiresAt !== undefined && inL2.expiresAt <= now)
    const newest = Math.max(l3 ? record!.version : 0, l2 ? inL2!.version : 0)
    const l1 = inL1?.item != null && inL1.version >= newest
    if (!l1 && !l2 && !l3) return { kind: 'missing' }
    return { kind: 'synced', version: Math.max(newest, l1 ? inL1!.version : 0), l1, l2, l3 }
  }

  /**
   * The item, or — when it does not exist — the factory's item, submitted. Concurrent callers for
   * the same id share one factory run (single flight).
   */
  async getOrInsertWith(
    id: string,
    factory: () => SyncItem | Promise<SyncItem>,
    options?: SubmitOptions,
  ): Promise<SyncItem> {
    const existing = await this.get(id)
    if (existing) return existing
    let flight = this.#flights.get(id)
    if (!flight) {
      flight = this.#insertOnce(id, factory, options).finally(() => this.#flights.delete(id))
      this.#flights.set(id, flight)
    }
    return flight
  }

  async #insertOnce(id: string, factory: () => SyncItem | Promise<SyncItem>, options?: SubmitOptions) {
    const raced = await this.get(id)
    if (raced) return raced
    const item = await factory()
    if (!(item instanceof SyncItem) || item.id !== id) {
      throw new InvalidArgumentError(`factory must return a SyncItem with id ${JSON.stringify(id)}`)
    }
    const receipt = await this.submit(item, options)
    return (await this.get(id)) ?? item.withVersion(receipt.version, this.#platform.now())
  }

  // ── operations ───────────────────────────────────────────────────────────────────────────────

  async health(): Promise<HealthReport> {
    return {
      state: this.#state,
      ready: this.#state === 'ready',
      l1: {
        items: this.#l1.count,
        bytes: this.#l1.bytes,
        maxBytes: this.#l1.maxBytes,
        evictions: this.#l1.evictions,
      },
      queue: {
        depth: this.#queue.depth,
        bytes: this.#queue.bytes,
        consecutiveFailures: this.#queue.consecutiveFailures,
      },
      l2: await this.#l2Health(),
      l3: await this.#l3Health(),
      degraded: this.#degradedTiers(),
      breakers: { l2: this.#breakers.l2.stats(), l3: this.#breakers.l3.stats() },
      wal: this.#wal
        ? { configured: true, ...this.#wal.stats(), parked: this.#parked.size, drained: this.#drainedFromLog }
        : { configured: false },
      filter: {
        enabled: this.#filter !== undefined,
        trusted: this.#filterTrusted,
        ids: this.#filter?.size ?? 0,
        checks: this.#filterChecks,
        falsePositives: this.#filterFalsePositives,
      },
      l2Reconcile: { pending: this.#l2Stale.size },
      backpressure: this.#pressure.snapshot(),
    }
  }

  async #l2Health(): Promise<HealthReport['l2']> {
    const counters = { corruptReads: this.#corruptL2Reads, failedReads: this.#failedL2Reads }
    if (!this.#l2) return { configured: false, ok: false, ...counters }
    const base = {
      configured: true,
      driver: this.#l2.driver,
      capabilities: this.#l2.capabilities,
      ...counters,
    }
    if (this.#state !== 'ready') return { ...base, ok: false, error: `engine is ${this.#state}` }
    const started = this.#platform.now()
    try {
      await this.#l2.ping()
      return { ...base, ok: true, latencyMs: this.#platform.now() - started }
    } catch (error) {
      return { ...base, ok: false, error: describe(error) }
    }
  }

  async #l3Health(): Promise<TierHealth & { dialect?: string }> {
    if (!this.#l3) return { configured: false, ok: false }
    const base = { configured: true, driver: this.#l3.driver, dialect: this.#l3.dialect }
    if (this.#state !== 'ready') return { ...base, ok: false, error: `engine is ${this.#state}` }
    if (!this.#l3Connected) return { ...base, ok: false, error: 'not connected yet (started degraded)' }
    const started = this.#platform.now()
    try {
      await this.#l3.ping()
      return { ...base, ok: true, latencyMs: this.#platform.now() - started }
    } catch (error) {
      return { ...base, ok: false, error: describe(error) }
    }
  }

  /** Byte accounting of L1, for tests and stats: the sum must equal `bytes`. */
  l1Snapshot(): { bytes: number; entries: L1Entry[] } {
    return { bytes: this.#l1.bytes, entries: [...this.#l1.entries()] }
  }

  /**
   * Validates a config patch and applies the fields that can change live. Fields that need a
   * restart are reported, not applied. Throws `ConfigError` (naming the field) on bad input.
   */
  reconfigure(patch: SyncConfigInput): ReconfigureResult {
    const next = parseConfig({ ...this.#config, ...patch })
    const applied: string[] = []
    const requiresRestart: string[] = []
    for (const key of Object.keys(patch) as (keyof SyncConfig)[]) {
      if (JSON.stringify(next[key]) === JSON.stringify(this.#config[key])) continue
      if ((LIVE_FIELDS as readonly string[]).includes(key)) applied.push(key)
      else requiresRestart.push(key)
    }
    const live: Partial<SyncConfig> = {}
    for (const key of applied) Object.assign(live, { [key]: next[key as keyof SyncConfig] })
    this.#config = { ...this.#config, ...live }
    this.#refreshPayloadLimit()
    this.#l1.resize(this.#config.l1MaxBytes)
    this.#parked.maxHeldBytes = this.#config.queueMaxBytes
    this.#queue.setThresholds({
      maxCount: this.#config.batchFlushCount,
      maxBytes: this.#config.batchFlushBytes,
      maxAgeMs: this.#config.batchFlushMs,
    })
    if (applied.length || requiresRestart.length) {
      this.#logger.info({ applied, requiresRestart }, 'reconfigured')
    }
    return { applied, requiresRestart }
  }

  /** A label for logs: the L3 URL without credentials. */
  describeTiers(): string {
    return this.#config.sqlUrl ? redactUrl(this.#config.sqlUrl) : (this.#l3?.driver ?? 'memory only')
  }
}

function idOf(item: unknown): string {
  return item instanceof SyncItem ? item.id : String((item as { id?: unknown } | null)?.id ?? '')
}

/** Whether an L3 failure means "unreachable" (park in the log) rather than a problem with this batch. */
function isOutage(error: unknown): boolean {
  return error instanceof CircuitOpenError || error instanceof L3UnavailableError
}

/** L3 has not been connected yet (the engine started degraded). */
class L3UnavailableError extends BackendError {
  constructor() {
    super('l3', 'not connected yet (the engine started without it); retried in the background')
  }
}

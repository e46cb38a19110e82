import { type FlushOutcome, NO_FAILURES, type QueuedWrite } from '../batch/queued-write.ts'
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
import { validateId } from '../item/item-id.ts'
import { SyncItem } from '../item/sync-item.ts'
import { L1Cache, type L1Entry, l1EntryBytes } from '../l1/l1-cache.ts'
import { isCorrupt } from '../l2/corrupt-value.ts'
import type { L2Store, L2WriteEntry } from '../l2/l2-store.ts'
import type { L3Store } from '../l3/l3-store.ts'
import type { StoredRecord } from '../l3/stored-record.ts'
import type { AckLevel, Route, SubmitOptions } from '../options/submit-options.ts'
import { validateSubmitOptions } from '../options/submit-options.ts'
import { defaultPlatform, type Platform } from '../platform/platform.ts'
import type { EngineState, StateListener } from './engine-state.ts'
import { type Logger, silentLogger } from './logger.ts'
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

export interface SyncEngineOptions {
  /** Parsed config (`loadConfig`) or raw input, validated here. */
  config?: SyncConfig | SyncConfigInput
  /** L2, the shared cache (Redis). Optional. */
  l2?: L2Store
  /** L3, the ground truth. Absent means a memory-only engine (every write then fails with `NoTierError`). */
  l3?: L3Store
  platform?: Platform
  logger?: Logger
}

/** Routes of writes without a TTL: shared, not allocated per write. */
const L3_ONLY: Route = Object.freeze({ l2: false, l3: true, ttlMs: undefined })
const L2_AND_L3: Route = Object.freeze({ l2: true, l3: true, ttlMs: undefined })
const TOMBSTONE_PURGE_INTERVAL_MS = 3_600_000
const SHUTDOWN_FLUSH_ATTEMPTS = 3

/**
 * The engine: one object per process that owns L1, the write queue and the tiers.
 * Write path: validate → version → L1 → queue → (flush) version-guarded tier writes.
 * Read path: L1 → write queue (read your writes) → L3, back-filling L1.
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
    this.#payloadLimit = this.#config.maxPayloadBytes
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
      if (this.#l3) await this.#l3.init()
      if (this.#l2) await this.#l2.init()
      this.#refreshPayloadLimit()
      this.#setState('draining-wal')
      this.#setState('warming')
      // Versions keep increasing across restarts: never issue one below what L3 already holds.
      if (this.#l3) this.#clock.observe(await this.#l3.maxVersion())
      this.#setState('ready')
      this.#logger.info({ l2: this.#l2?.driver ?? 'none', l3: this.#l3?.driver ?? 'none' }, 'engine ready')
    } catch (error) {
      this.#setState('failed')
      await this.#l3?.close().catch(() => {})
      await this.#l2?.close().catch(() => {})
      throw error instanceof SyncError ? error : new BackendError('l3', describe(error), { cause: error })
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
      this.#setState('stopped')
      return
    }
    await this.#startPromise?.catch(() => {})
    if (this.#state === 'failed') return
    this.#setState('stopping')
    this.#queue.close()
    let unflushed = 0
    for (let attempt = 0; attempt < SHUTDOWN_FLUSH_ATTEMPTS && this.#queue.depth > 0; attempt++) {
      const outcome = await this.#queue.flush()
      unflushed = outcome.failed.size
    }
    await this.#l3
      ?.close()
      .catch((error) => this.#logger.error({ err: describe(error) }, 'closing L3 failed'))
    await this.#l2
      ?.close()
      .catch((error) => this.#logger.error({ err: describe(error) }, 'closing L2 failed'))
    if (this.#queue.depth > 0) {
      this.#setState('failed')
      throw new FlushError(
        `shutdown could not flush ${Math.max(unflushed, this.#queue.depth)} pending writes`,
      )
    }
    this.#setState('stopped')
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
    const write = this.#prepareWrite(item, options)
    const ack = this.#ackLevel(options?.ack)
    const done = this.#queue.enqueue(write)
    if (ack === 'stored') await settle(done, write.id)
    return { id: write.id, version: write.version, ack }
  }

  /** Writes many items; each is validated on its own, so one bad item never blocks the others. */
  async submitMany(
    items: readonly SyncItem[],
    options?: SubmitOptions,
  ): Promise<BulkResult<SubmitReceipt>[]> {
    this.#assertReady('submitMany')
    return this.#writeEach(items, options, (item) => this.#prepareWrite(item, options), idOf)
  }

  /** Deletes with a tombstone: a delayed older write can never bring the item back. */
  async delete(id: string, options?: Pick<SubmitOptions, 'ack'>): Promise<DeleteReceipt> {
    this.#assertReady('delete')
    const write = this.#prepareDelete(id, options)
    const ack = this.#ackLevel(options?.ack)
    const done = this.#queue.enqueue(write)
    if (ack === 'stored') await settle(done, id)
    return { id, version: write.version, ack }
  }

  async deleteMany(
    ids: readonly string[],
    options?: Pick<SubmitOptions, 'ack'>,
  ): Promise<BulkResult<DeleteReceipt>[]> {
    this.#assertReady('deleteMany')
    return this.#writeEach(ids, options, (id) => this.#prepareDelete(id, options), String)
  }

  /**
   * Prepares and queues each input on its own (a bad one gets its typed error, the others go on),
   * then, for `stored`, waits for every flush and records the writes that did not make it.
   */
  async #writeEach<I>(
    inputs: readonly I[],
    options: Pick<SubmitOptions, 'ack'> | undefined,
    prepare: (input: I) => QueuedWrite,
    nameOf: (input: I) => string,
  ): Promise<BulkResult<SubmitReceipt>[]> {
    const ack = this.#ackLevel(options?.ack)
    const waits: Promise<void>[] = []
    const results: BulkResult<SubmitReceipt>[] = inputs.map((input, index) => {
      try {
        const write = prepare(input)
        const done = this.#queue.enqueue(write)
        if (ack === 'stored') {
          waits.push(
            done.then((outcome) => {
              const error = failureOf(outcome, write.id)
              if (error) results[index] = { ok: false, id: write.id, error }
            }),
          )
        }
        return { ok: true, id: write.id, value: { id: write.id, version: write.version, ack } }
      } catch (error) {
        return { ok: false, id: nameOf(input), error: asSyncError(error) }
      }
    })
    await Promise.all(waits)
    return results
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
    if (callerVersioned) {
      // Possibly older than what L3 holds: not served from L1 until a read compared it with L3;
      // an older L1 entry must not be served either.
      const cached = this.#l1.peek(stored.id)
      if (cached !== undefined && cached.version < version) this.#l1.delete(stored.id)
    } else {
      this.#l1.replaceIfPresent(write)
    }
    return write
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
    // No durable log yet: `logged` is served by the stronger `stored`.
    return level === 'logged' ? 'stored' : level
  }

  /**
   * Writes one batch to its tiers: L3 first (the ground truth), then L2 in one pipeline, so L2
   * never holds a write that L3 refused or has not committed. Called by the write queue, one
   * batch at a time; a throw re-queues the whole batch (replays are safe: every write is
   * version-guarded).
   */
  async #writeBatch(batch: readonly QueuedWrite[]): Promise<FlushOutcome> {
    let rejected: ReadonlyMap<string, Error> | undefined
    const toL3 = this.#l3 ? batch.filter((write) => write.route.l3) : []
    if (toL3.length > 0) {
      const result = await this.#l3!.write(toL3.map(recordOf))
      // The guard kept a newer stored version: L1 must not go on serving the older one.
      this.#dropFromL1(result.stale, toL3)
      if (result.rejected && result.rejected.size > 0) {
        // Refused for good (e.g. larger than the server's packet limit): never stored, so never served.
        rejected = result.rejected
        this.#dropFromL1([...result.rejected.keys()], toL3)
        for (const [id, error] of result.rejected) {
          this.#logger.error(
            { id, err: error.message },
            'L3 refused a write; it is dropped and not acknowledged',
          )
        }
      }
    }
    if (this.#l2) {
      const now = this.#platform.now()
      const entries: L2WriteEntry[] = []
      for (const write of batch) {
        if (!write.route.l2 || rejected?.has(write.id)) continue
        const entry = l2EntryOf(write, now)
        if (entry) entries.push(entry)
      }
      if (entries.length > 0) {
        const result = await this.#l2.write(entries)
        this.#dropFromL1(result.stale, batch)
      }
      // A write to L3 only (durable) makes any L2 copy of its id older than the truth: drop it,
      // so L2 cannot serve a version below one already stored. The next read back-fills L2.
      const bypassed: string[] = []
      for (const write of toL3) if (!write.route.l2 && !rejected?.has(write.id)) bypassed.push(write.id)
      if (bypassed.length > 0) await this.#l2.delete(bypassed)
    }
    await this.#maybePurgeTombstones()
    const written = batch.length - (rejected?.size ?? 0)
    return rejected ? { written, failed: NO_FAILURES, rejected } : { written, failed: NO_FAILURES }
  }

  /** Drops L1's copy of writes a tier kept a newer version of (or refused), if L1 still holds them. */
  #dropFromL1(ids: readonly string[], writes: readonly QueuedWrite[]) {
    if (ids.length === 0) return
    const versions = new Map(writes.map((write) => [write.id, write.version]))
    for (const id of ids) {
      const version = versions.get(id)
      if (version !== undefined) this.#l1.deleteIfVersion(id, version)
    }
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
    const entry = this.#l1.get(id)
    if (entry !== undefined) return entry.item ?? undefined
    return this.#readThrough(validateId(id))
  }

  async #readThrough(id: string): Promise<SyncItem | undefined> {
    const pending = this.#queue.lookup(id)
    if (pending && !pending.callerVersioned) {
      // Writes go around L1; the first read of a pending write makes it hot.
      this.#l1.set(pending)
      return pending.item ?? undefined
    }
    const fromL2 = this.#l2 ? (await this.#readL2([id])).get(id) : undefined
    if (fromL2 !== undefined && !(pending && pending.version > fromL2.version)) {
      return this.#admit(id, fromL2)
    }
    const record = this.#l3 ? (await this.#readL3([id])).get(id) : undefined
    this.#backfillL2(record ? [record] : [])
    return this.#admit(id, record ?? fromL2)
  }

  /**
   * Takes a record read from a tier, preferring a newer write that arrived during the read, and
   * back-fills L1 with live items (expiring with the record's own expiry, if it has one).
   */
  #admit(id: string, record: StoredRecord | undefined): SyncItem | undefined {
    const pending = this.#queue.lookup(id)
    // Strictly newer: at an equal version every tier keeps the first writer.
    if (pending && (!record || pending.version > record.version)) return pending.item ?? undefined
    // HLC rule: a version seen from elsewhere (another writer of the same L3) moves our clock past it.
    if (record) this.#clock.observe(record.version)
    if (!record || record.tombstone) return undefined
    const now = this.#platform.now()
    if (record.expiresAt !== undefined && record.expiresAt <= now) return undefined
    const item = itemOf(record)
    const expiresAt = earliest(this.#expiry(undefined, now), record.expiresAt ?? 0)
    this.#l1.set({ id, item, version: item.version, expiresAt })
    return item
  }

  /**
   * Live L2 records by id. A corrupt value is a miss (counted; L3's copy is written back over it);
   * an L2 that does not answer is skipped (counted) and L3 answers instead.
   */
  async #readL2(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    const records = new Map<string, StoredRecord>()
    let values: Awaited<ReturnType<L2Store['read']>>
    try {
      values = await this.#l2!.read(ids)
    } catch (error) {
      this.#failedL2Reads++
      this.#logger.warn({ err: describe(error) }, 'L2 read failed; reading L3')
      return records
    }
    for (const [id, value] of values) {
      if (isCorrupt(value)) {
        this.#corruptL2Reads++
        this.#logger.warn({ id, reason: value.reason }, 'corrupt L2 value; served from L3 and repaired')
      } else records.set(id, value)
    }
    return records
  }

  /** Writes L3 records back to L2 in the background (version-guarded, so never over a newer write). */
  #backfillL2(records: readonly StoredRecord[]) {
    if (!this.#l2 || records.length === 0) return
    const entries = records.map((record) => ({ record, repair: true }))
    const work = this.#l2.write(entries).then(
      () => {},
      (error) => this.#logger.warn({ err: describe(error) }, 'L2 back-fill failed'),
    )
    this.#platform.waitUntil?.(work)
  }

  async #readL3(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    try {
      return await this.#l3!.read(ids)
    } catch (error) {
      throw error instanceof SyncError ? error : new BackendError('l3', describe(error), { cause: error })
    }
  }

  /** Items in the order of `ids` (undefined where absent): one L3 query for all L1 misses. */
  async getMany(ids: readonly string[]): Promise<(SyncItem | undefined)[]> {
    this.#assertReady('getMany')
    const results: (SyncItem | undefined)[] = new Array(ids.length)
    const misses: string[] = []
    ids.forEach((id, index) => {
      const entry = this.#l1.get(id)
      if (entry !== undefined) {
        results[index] = entry.item ?? undefined
        return
      }
      validateId(id)
      const pending = this.#queue.lookup(id)
      if (pending && !pending.callerVersioned) results[index] = pending.item ?? undefined
      else misses.push(id)
    })
    if (misses.length === 0) return results
    const records = new Map<string, StoredRecord>()
    if (this.#l2) for (const [id, record] of await this.#readL2(misses)) records.set(id, record)
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
      if (!admitted.has(id)) admitted.set(id, this.#admit(id, records.get(id)))
      results[index] = admitted.get(id)
    })
    return results
  }

  async contains(id: string): Promise<boolean> {
    return (await this.get(id)) !== undefined
  }

  /** Where the item is: pending in the queue, synced (and in which tiers), or missing. */
  async status(id: string): Promise<ItemStatus> {
    this.#assertReady('status')
    validateId(id)
    const pending = this.#queue.lookup(id)
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

async function settle(done: Promise<FlushOutcome>, id: string): Promise<void> {
  const error = failureOf(await done, id)
  if (error) throw error
}

/** Why the write of `id` is not stored after this flush: refused for good, or failed for now (retried). */
function failureOf(outcome: FlushOutcome, id: string): SyncError | undefined {
  const refusal = outcome.rejected?.get(id)
  if (refusal) return asSyncError(refusal)
  const failure = outcome.failed.get(id)
  return failure ? asFlushFailure(failure) : undefined
}

/** A write that failed to flush is still queued and retried: say so, keeping the backend's error as cause. */
function asFlushFailure(failure: Error): SyncError {
  if (failure instanceof FlushError) return failure
  return new FlushError(`write not stored yet (it stays queued and is retried): ${failure.message}`, {
    cause: failure,
  })
}

function asSyncError(error: unknown): SyncError {
  if (error instanceof SyncError) return error
  return new InvalidArgumentError(describe(error))
}

function idOf(item: unknown): string {
  return item instanceof SyncItem ? item.id : String((item as { id?: unknown } | null)?.id ?? '')
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function recordOf(write: QueuedWrite): StoredRecord {
  // A versioned item already has every field of a record (no copy on the flush path).
  if (write.item !== null) return write.item
  return {
    id: write.id,
    version: write.version,
    updatedAt: write.updatedAt,
    hash: '',
    state: 'default',
    contentType: 'binary',
    mime: '',
    content: null,
    tombstone: true,
  }
}

/**
 * The L2 entry of a write: the record plus its absolute expiry (so L1 copies made from L2 expire
 * with the key) and the TTL left now. A write whose TTL already ran out is not sent.
 */
function l2EntryOf(write: QueuedWrite, now: number): L2WriteEntry | undefined {
  const record = recordOf(write)
  if (write.route.ttlMs === undefined || write.item === null) return { record }
  const ttlMs = write.expiresAt - now
  if (ttlMs <= 0) return undefined
  const item = write.item
  return {
    ttlMs,
    record: {
      id: item.id,
      version: item.version,
      updatedAt: item.updatedAt,
      hash: item.hash,
      state: item.state,
      contentType: item.contentType,
      mime: item.mime,
      content: item.content,
      tombstone: false,
      expiresAt: write.expiresAt,
    },
  }
}

/** The earlier of two expiry instants, where 0 means none. */
function earliest(a: number, b: number): number {
  if (a === 0) return b
  if (b === 0) return a
  return Math.min(a, b)
}

function itemOf(record: StoredRecord): SyncItem {
  return SyncItem.restore({
    id: record.id,
    content: record.content ?? new Uint8Array(0),
    contentType: record.contentType,
    mime: record.mime,
    hash: record.hash,
    state: record.state,
    version: record.version,
    updatedAt: record.updatedAt,
  })
}

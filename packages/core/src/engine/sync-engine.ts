import { parseConfig } from '../config/load-config.ts'
import { redactUrl, type SyncConfig, type SyncConfigInput } from '../config/sync-config.ts'
import { EngineStateError, NotFoundError } from '../errors.ts'
import type { SyncItem } from '../item/sync-item.ts'
import type { L1Entry } from '../l1/l1-cache.ts'
import type { Partition } from '../l3/partitions/partition-map.ts'
import type { EngineOperation } from '../metrics/metric-attributes.ts'
import type { SubmitOptions } from '../options/submit-options.ts'
import { defaultPlatform } from '../platform/platform.ts'
import { type BackgroundScope, DETACHED_SCOPE } from '../runtime/background-scope.ts'
import type { IndexDefinition } from '../search/index-definition.ts'
import type { IndexStatus } from '../search/l3-search.ts'
import type { ListingResult, SearchResult } from '../search/search-service.ts'
import type { DeleteOptions } from '../write/write-preparer.ts'
import { announceReady, closeStores, startEngine, stopEngine } from './engine-lifecycle.ts'
import { composeEngine, type EngineParts } from './engine-parts.ts'
import { flushReport, healthReport, reconfigure } from './engine-report.ts'
import type { EngineState, StateListener } from './engine-state.ts'
import { GetOrInsert } from './get-or-insert.ts'
import { silentLogger } from './logger.ts'
import type {
  BulkResult,
  DeleteReceipt,
  FlushReport,
  HealthReport,
  ItemStatus,
  ReconfigureResult,
  SubmitReceipt,
} from './receipts.ts'
import type { ReadOptions, SyncEngineOptions } from './sync-engine-options.ts'

export type { ReadOptions, SyncEngineOptions } from './sync-engine-options.ts'

/**
 * The engine's one public face: lifecycle, the public API, the state guard and the operation
 * metrics. Everything else is done by its parts (`composeEngine`): the read path
 * (`ReadResolver`), the write path (`WritePath`), the tiers behind their breakers (`L2Tier`,
 * `L3Tier`, written through one `TierWriter`), the log (`LogKeeper`, `drainOnce`) and
 * `Maintenance`.
 */
export class SyncEngine {
  #config: SyncConfig
  #state: EngineState = 'created'
  readonly #listeners = new Set<StateListener>()
  readonly #parts: EngineParts
  readonly #scope: BackgroundScope
  /** `get`'s read options after an L1 miss when the caller names no scope (built once). */
  readonly #l1Checked: { readonly scope: BackgroundScope; readonly l1Checked: true }
  readonly #inserts = new GetOrInsert(this, () => this.#parts.platform.now())
  #detachMetrics: (() => void) | undefined
  #startPromise: Promise<void> | undefined
  #shutdownPromise: Promise<void> | undefined

  constructor(options: SyncEngineOptions = {}) {
    this.#config = parseConfig(options.config ?? {})
    const platform = options.platform ?? defaultPlatform
    const waitUntil = platform.waitUntil
    this.#scope = waitUntil ? { waitUntil } : DETACHED_SCOPE
    this.#l1Checked = { scope: this.#scope, l1Checked: true }
    this.#parts = composeEngine({
      config: () => this.#config,
      l2: options.l2,
      l3: options.l3,
      wal: options.wal,
      outbox: options.outbox,
      platform,
      logger: options.logger ?? silentLogger,
      breakers: options.breakers,
      meter: options.meter,
      maintenance: options.maintenance ?? 'timers',
    })
  }

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
    this.#startPromise ??= this.#start()
    return this.#startPromise
  }

  async #start(): Promise<void> {
    await startEngine(this.#parts, (state) => this.#setState(state))
    this.#setState('ready')
    this.#detachMetrics = announceReady(this.#parts)
  }

  /**
   * Flushes everything pending, closes the tiers and ends in `stopped`. Idempotent: later calls
   * return the first call's promise. Without a start it just marks the engine stopped.
   */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown()
    return this.#shutdownPromise
  }

  async #shutdown(): Promise<void> {
    if (this.#state === 'created') {
      // Never started, but the stores may already hold connections (a connected Redis client).
      await closeStores(this.#parts)
      this.#setState('stopped')
      return
    }
    await this.#startPromise?.catch(() => {})
    if (this.#state === 'failed') return
    this.#detachMetrics?.()
    await stopEngine(this.#parts, (state) => this.#setState(state))
  }

  // ── writes ───────────────────────────────────────────────────────────────────────────────────

  /** Writes one item. Resolves once the write reached its ack level (see `AckLevel`). */
  submit(item: SyncItem, options?: SubmitOptions): Promise<SubmitReceipt> {
    return this.#run('submit', () => this.#parts.writes.submit(item, options))
  }

  /** Writes many items; each is validated on its own, so one bad item never blocks the others. */
  submitMany(items: readonly SyncItem[], options?: SubmitOptions): Promise<BulkResult<SubmitReceipt>[]> {
    return this.#run('submitMany', () => this.#parts.writes.submitMany(items, options))
  }

  /** Deletes with a tombstone: a delayed older write can never bring the item back. */
  delete(id: string, options?: DeleteOptions): Promise<DeleteReceipt> {
    return this.#run('delete', () => this.#parts.writes.delete(id, options))
  }

  deleteMany(
    ids: readonly string[],
    options?: Pick<SubmitOptions, 'ack'>,
  ): Promise<BulkResult<DeleteReceipt>[]> {
    return this.#run('deleteMany', () => this.#parts.writes.deleteMany(ids, options))
  }

  /** Flushes every queued write now. Throws `FlushError` if some could not be written (they stay queued). */
  flush(): Promise<FlushReport> {
    return this.#run('flush', async () => flushReport(await this.#parts.queue.flush(), this.#parts.queue))
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────

  /** The newest version of the item, or undefined if it does not exist (or was deleted, or expired). */
  async get(id: string, options?: ReadOptions): Promise<SyncItem | undefined> {
    const entry = this.#l1Hit(id, 'get')
    const parts = this.#parts
    parts.metrics.getCall(entry !== undefined)
    if (entry !== undefined) return entry.item ?? undefined
    return parts.resolver.item(
      id,
      options?.scope ? { scope: options.scope, l1Checked: true } : this.#l1Checked,
    )
  }

  /**
   * `get` as far as L1 alone can answer it, synchronously: the item, `null` when L1 knows the id
   * holds nothing (a tombstone), or `undefined` when only the tiers can say — then call `get`
   * (this call counted nothing). For callers that answer without a promise when they can (the
   * HTTP GET of an L1 hit: a promise chain through the server costs more than the lookup).
   */
  getCached(id: string): SyncItem | null | undefined {
    const entry = this.#l1Hit(id, 'getCached')
    if (entry === undefined) return undefined
    this.#parts.metrics.getCall(true)
    return entry.item
  }

  /** The one L1 lookup of `get` and `getCached` (no allocation on a hit). */
  #l1Hit(id: string, operation: string): L1Entry | undefined {
    if (this.#state !== 'ready') throw new EngineStateError(this.#state, operation)
    return this.#parts.l1.get(id)
  }

  /** Items in the order of `ids` (undefined where absent): one L2 round trip and one L3 query for all misses. */
  getMany(ids: readonly string[], options?: ReadOptions): Promise<(SyncItem | undefined)[]> {
    return this.#run('getMany', () =>
      this.#parts.resolver.items(ids, { scope: options?.scope ?? this.#scope }),
    )
  }

  /**
   * Creates (or replaces) a search index and backfills it from the items under its prefix (see
   * docs/search.md); `created` is false when the same definition was there. Needs an SQL L3.
   */
  defineIndex(
    definition: unknown,
    onProgress?: (covered: number) => void,
  ): Promise<{ created: boolean; definition: IndexDefinition }> {
    return this.#run('defineIndex', () => this.#parts.search.defineIndex(definition, onProgress))
  }

  dropIndex(name: string): Promise<void> {
    return this.#run('dropIndex', () => this.#parts.search.dropIndex(name))
  }

  listIndexes(): readonly IndexDefinition[] {
    return this.#parts.search.listIndexes()
  }

  /** An index's definition, `state` (`ready`, or `building` while backfilled) and `covered` so far. */
  indexStatus(name: string): Promise<IndexDefinition & IndexStatus> {
    return this.#run('search', () => this.#parts.search.indexStatus(name))
  }

  /**
   * Ids under `prefix` live in an L3 table of their own from now on (longest registered prefix
   * wins); reads, scans, search and the filter span every table. Persisted in L3. Refused (409
   * `conflict`) once ids under the prefix are stored. `created` is false when it was registered.
   */
  registerPartition(prefix: string): Promise<{ created: boolean; partition: Partition }> {
    return this.#run('registerPartition', () => this.#parts.partitions.register(prefix))
  }

  listPartitions(): readonly Partition[] {
    return this.#parts.partitions.list()
  }

  /** Live items under a prefix (literal) and with a state, in id order: `{ prefix?, state?, limit?, cursor? }`. */
  listItems(request: unknown): Promise<ListingResult> {
    return this.#run('scanPrefix', () => this.#parts.search.listItems(request))
  }

  /** How many live items are under a prefix (literal) and, optionally, have a state: `{ prefix?, state? }`. */
  countItems(request: unknown): Promise<number> {
    return this.#run('scanPrefix', () => this.#parts.search.countItems(request))
  }

  /**
   * Gives an item another state tag, as a new version of the same content, conditional on the
   * version read (`PreconditionFailedError` if it changed meanwhile); acknowledged `stored`.
   * `NotFoundError` for an absent id.
   */
  async setState(id: string, state: string): Promise<SubmitReceipt> {
    const current = await this.get(id)
    if (current === undefined) throw new NotFoundError(`no item ${JSON.stringify(id)}`)
    return this.submit(current.withVersion(0, 0).withState(state), { ifVersion: current.version })
  }

  /**
   * Deletes every live item under a prefix (literal), optionally with a state (`{ prefix, state?,
   * limit? }`), through the write path; returns how many live items it removed. With `limit`, one
   * step of at most that many, and `more` says whether to call again.
   */
  deletePrefix(
    request: unknown,
    onProgress?: (deleted: number) => void,
  ): Promise<{ deleted: number; more: boolean }> {
    return this.#run('deleteMany', () => this.#parts.search.deletePrefix(request, onProgress))
  }

  /** One page of a search (`{ index, query, sort?, limit?, cursor?, values? }`): see docs/search.md. */
  search(request: unknown): Promise<SearchResult> {
    return this.#run('search', () => this.#parts.search.search(request))
  }

  /**
   * Like `get`, re-hashing the content: a copy in L1 or L2 that fails its hash is dropped and read
   * again from below; content in L3 that fails it is a `CorruptionError` (HTTP 500 `…/corruption`).
   */
  getVerified(id: string, options?: ReadOptions): Promise<SyncItem | undefined> {
    return this.#run('getVerified', async () => {
      const [item] = await this.#parts.resolver.items([id], {
        scope: options?.scope ?? this.#scope,
        verify: true,
      })
      return item
    })
  }

  /** Whether the item exists, asking each tier for existence only (no content is read). */
  contains(id: string): Promise<boolean> {
    return this.#run('contains', async () => {
      const [exists] = await this.#parts.resolver.exist([id], { scope: this.#scope })
      return exists === true
    })
  }

  /** Where the item is: pending in the queue or the log, synced (and in which tiers), or missing. */
  status(id: string): Promise<ItemStatus> {
    return this.#run('status', () => this.#parts.resolver.status(id))
  }

  /**
   * The item, or — when it does not exist — the factory's item, submitted. Concurrent callers for
   * the same id share one factory run (single flight).
   */
  getOrInsertWith(
    id: string,
    factory: () => SyncItem | Promise<SyncItem>,
    options?: SubmitOptions,
  ): Promise<SyncItem> {
    return this.#inserts.run(id, factory, options)
  }

  // ── operations ───────────────────────────────────────────────────────────────────────────────

  health(): Promise<HealthReport> {
    return healthReport(this.#parts, this.#state)
  }

  /**
   * One maintenance run now: removes settled writes from the log, connects a tier that was
   * unreachable, drains parked writes, reconciles L2, purges. With `maintenance: 'manual'` the
   * host calls this (per request in `waitUntil`, or on a schedule); with timers it is rarely needed.
   */
  runMaintenance(): Promise<void> {
    if (this.#state !== 'ready') return Promise.reject(new EngineStateError(this.#state, 'runMaintenance'))
    return this.#parts.maintenance.runOnce()
  }

  /**
   * Whether a `runMaintenance()` has something to do now (a tier to connect, L2 copies to
   * reconcile, settled log entries, a purge due): a `manual` host asks before each request, so a
   * request pays for maintenance only when there is some. No I/O.
   */
  get maintenanceDue(): boolean {
    return this.#state === 'ready' && this.#parts.maintenance.needed
  }

  /** Byte accounting of L1, for tests and stats: the sum must equal `bytes`. */
  l1Snapshot(): { bytes: number; entries: L1Entry[] } {
    return { bytes: this.#parts.l1.bytes, entries: [...this.#parts.l1.entries()] }
  }

  /**
   * Validates a config patch and applies the fields that can change live. Fields that need a
   * restart, or that this engine cannot change, are reported, not applied. Throws `ConfigError`
   * (naming the field) on bad input.
   */
  reconfigure(patch: SyncConfigInput): ReconfigureResult {
    const { next, result } = reconfigure(this.#parts, this.#config, patch)
    this.#config = next
    return result
  }

  /** A label for logs: the L3 URL without credentials. */
  describeTiers(): string {
    return this.#config.sqlUrl
      ? redactUrl(this.#config.sqlUrl)
      : (this.#parts.l3?.store.driver ?? 'memory only')
  }

  /**
   * A public call: only while `ready`, counted by operation. Not async (that would wrap every
   * call's promise in one more); a throw still reaches the caller as a rejection.
   */
  #run<T>(operation: EngineOperation, call: () => Promise<T>): Promise<T> {
    try {
      if (this.#state !== 'ready') throw new EngineStateError(this.#state, operation)
      this.#parts.metrics.operation(operation)
      return call()
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #setState(next: EngineState) {
    const previous = this.#state
    if (previous === next) return
    this.#state = next
    for (const listener of this.#listeners) listener(next, previous)
  }
}

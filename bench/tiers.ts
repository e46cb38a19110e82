import {
  BackendError,
  type L2Store,
  type L3Store,
  type L3WriteOptions,
  type L3WriteResult,
  RedisKeyLayout,
  type StoredRecord,
  type SyncConfigInput,
  SyncEngine,
  SyncItem,
  type WriteAheadLog,
} from '@sync-engine/core/internal'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { makeIds, makeValues } from './fixtures.ts'
import type { BenchContext } from './report.ts'
import type { MysqlService, RedisService } from './services.ts'
import { nowMs } from './stats.ts'

/** Calls and ids that reached each tier, counted by wrapping the stores' methods. */
export interface TierCounts {
  l2Reads: number
  l2ReadIds: number
  l2Writes: number
  l2WriteEntries: number
  l3Reads: number
  l3ReadIds: number
  l3Writes: number
  l3WriteRecords: number
  /** Wall time inside `write` calls, ms (calls may overlap, e.g. an L2 back-fill). */
  l2WriteMs: number
  l3WriteMs: number
}

export function zeroCounts(): TierCounts {
  return {
    l2Reads: 0,
    l2ReadIds: 0,
    l2Writes: 0,
    l2WriteEntries: 0,
    l3Reads: 0,
    l3ReadIds: 0,
    l3Writes: 0,
    l3WriteRecords: 0,
    l2WriteMs: 0,
    l3WriteMs: 0,
  }
}

/** An engine over Redis (L2) and MariaDB (L3), on this run's own key prefix and table. */
export interface TieredEngine {
  readonly engine: SyncEngine
  readonly l2: L2Store
  readonly l3: L3Store
  readonly prefix: string
  readonly table: string
  /** Where the engine keeps an id in Redis (the same layout as its L2 store). */
  itemKey(id: string): string
  /** Reset with `Object.assign(counts, zeroCounts())`. */
  readonly counts: TierCounts
  /** Shuts the engine down, deletes its keys and drops its table. */
  close(): Promise<void>
}

function countL2(store: L2Store, counts: TierCounts): void {
  const read = store.read.bind(store)
  const write = store.write.bind(store)
  store.read = (ids) => {
    counts.l2Reads++
    counts.l2ReadIds += ids.length
    return read(ids)
  }
  store.write = async (entries) => {
    counts.l2Writes++
    counts.l2WriteEntries += entries.length
    const t0 = nowMs()
    try {
      return await write(entries)
    } finally {
      counts.l2WriteMs += nowMs() - t0
    }
  }
}

function countL3(store: L3Store, counts: TierCounts): void {
  const read = store.read.bind(store)
  const write = store.write.bind(store)
  store.read = (ids) => {
    counts.l3Reads++
    counts.l3ReadIds += ids.length
    return read(ids)
  }
  store.write = async (records, options) => {
    counts.l3Writes++
    counts.l3WriteRecords += records.length
    const t0 = nowMs()
    try {
      return await write(records, options)
    } finally {
      counts.l3WriteMs += nowMs() - t0
    }
  }
}

/**
 * A started engine with L2 on Redis (`openRedisStore`, the ioredis transport with its defaults)
 * and L3 on MariaDB (`createMysqlStore`, mysql2 with its defaults), each on a fresh prefix/table.
 */
export async function openTieredEngine(
  redis: RedisService,
  mysql: MysqlService,
  label: string,
  config: SyncConfigInput = {},
  extra: { wal?: WriteAheadLog } = {},
): Promise<TieredEngine> {
  const prefix = redis.prefix(label)
  const table = mysql.table(label)
  const counts = zeroCounts()
  const l3 = createMysqlStore({ url: mysql.url, table })
  let l2: L2Store
  try {
    l2 = await openRedisStore(redis.url, { prefix })
  } catch (error) {
    await l3.close()
    throw error
  }
  countL2(l2, counts)
  countL3(l3, counts)
  const engine = new SyncEngine({ l2, l3, config, ...(extra.wal ? { wal: extra.wal } : {}) })
  const keys = new RedisKeyLayout(prefix)
  const close = async () => {
    await engine.shutdown().catch(() => {})
    // shutdown closes the tiers; closing again is a no-op, and covers an engine that never started.
    await Promise.allSettled([l2.close(), l3.close()])
    await redis.deletePrefix(prefix)
    await mysql.dropTable(table)
  }
  try {
    await engine.start()
  } catch (error) {
    await close()
    throw error
  }
  return { engine, l2, l3, prefix, table, itemKey: (id) => keys.itemKey(id), counts, close }
}

/** `count` JSON items of ~200 bytes (ids `user:000000`…), built with `SyncItem.fromJson`. */
export function makeItems(count: number): SyncItem[] {
  const ids = makeIds(count)
  const values = makeValues(count)
  return ids.map((id, i) => SyncItem.fromJson(id, values[i]))
}

/** Submits every item with ack 'stored', `concurrency` at a time: all in L2 and L3 when it resolves. */
export async function load(engine: SyncEngine, items: readonly SyncItem[], concurrency = 1_000) {
  for (let i = 0; i < items.length; i += concurrency) {
    const results = await engine.submitMany(items.slice(i, i + concurrency), { ack: 'stored' })
    const failed = results.find((r) => !r.ok)
    if (failed && !failed.ok) throw new Error(`setup: submit of ${failed.id} failed: ${failed.error.message}`)
  }
  const report = await engine.flush()
  if (report.pending !== 0) throw new Error(`setup: ${report.pending} writes still queued`)
}

/** A permutation of `[0, n)`, deterministic (Fisher–Yates over the fixtures' PRNG). */
export function permutation(n: number, rand: () => number): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  return order
}

/** Both services, or the result line saying which one is missing. */
export function tiersOrSkip(
  ctx: BenchContext,
): { redis: RedisService; mysql: MysqlService; skip?: undefined } | { skip: string } {
  const { redis, mysql } = ctx.services
  const missing = [redis, mysql].filter((s) => !s.available)
  if (redis.available && mysql.available) return { redis, mysql }
  return {
    skip: `Skipped: ${missing.map((s) => `${s.label} unreachable (${s.available ? '' : s.reason})`).join('; ')}.`,
  }
}

/** The L3Store methods `GatedL3` counts. */
export type L3Method =
  | 'init'
  | 'write'
  | 'read'
  | 'scanIds'
  | 'maxVersion'
  | 'count'
  | 'purgeTombstones'
  | 'purgeExpired'
  | 'head'
  | 'ping'

/**
 * An L3 store seen through a gate (the idea of test/support/flaky-l3.ts, for benchmarks): every
 * call is counted by method, and while `down` is set every call but `close` throws a
 * `BackendError` without reaching the database — an unreachable L3 as the engine sees it.
 */
export class GatedL3 implements L3Store {
  down = false
  readonly calls: Record<L3Method, number> = {
    init: 0,
    write: 0,
    read: 0,
    scanIds: 0,
    maxVersion: 0,
    count: 0,
    purgeTombstones: 0,
    purgeExpired: 0,
    head: 0,
    ping: 0,
  }
  /** Calls refused because `down` was set. */
  refused = 0

  constructor(readonly inner: L3Store) {}

  get dialect() {
    return this.inner.dialect
  }
  get driver() {
    return this.inner.driver
  }
  get capabilities() {
    return this.inner.capabilities
  }
  get identity() {
    return this.inner.identity
  }
  /** Calls of every method, summed. */
  get total(): number {
    return Object.values(this.calls).reduce((sum, n) => sum + n, 0)
  }
  #enter(method: L3Method): void {
    this.calls[method]++
    if (this.down) {
      this.refused++
      throw new BackendError('l3', 'benchmark outage: L3 unreachable')
    }
  }
  async init(): Promise<void> {
    this.#enter('init')
    return this.inner.init()
  }
  async write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    this.#enter('write')
    return this.inner.write(records, options)
  }
  async read(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    this.#enter('read')
    return this.inner.read(ids)
  }
  async head(ids: readonly string[]) {
    this.#enter('head')
    return this.inner.head(ids)
  }
  async purgeExpired(now: number): Promise<number> {
    this.#enter('purgeExpired')
    return this.inner.purgeExpired(now)
  }
  async scanIds(options: {
    after?: string
    limit: number
    prefix?: string
    now?: number
  }): Promise<string[]> {
    this.#enter('scanIds')
    return this.inner.scanIds(options)
  }
  async maxVersion(): Promise<number> {
    this.#enter('maxVersion')
    return this.inner.maxVersion()
  }
  async count(): Promise<number> {
    this.#enter('count')
    return this.inner.count()
  }
  async purgeTombstones(olderThanMs: number): Promise<number> {
    this.#enter('purgeTombstones')
    return this.inner.purgeTombstones(olderThanMs)
  }
  async ping(): Promise<void> {
    this.#enter('ping')
    return this.inner.ping()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

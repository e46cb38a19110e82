import { randomBytes } from 'node:crypto'
import {
  type CorruptValue,
  decodeEnvelope,
  escapeGlob,
  isCorrupt,
  type L2Store,
  type L2Value,
  type L2WriteEntry,
  type L2WriteResult,
  type L3Store,
  type Platform,
  RedisKeyLayout,
  type RedisStore,
  type StoredRecord,
  type SyncConfigInput,
  SyncEngine,
  type SyncEngineOptions,
} from '@sync-engine/core/internal'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { Redis } from 'ioredis'
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise'
import { afterAll, afterEach, beforeAll } from 'vitest'
import {
  describeWithMysql,
  describeWithRedis,
  mysqlTables,
  mysqlUrl,
  redisUrl,
} from '../../support/services.ts'

/**
 * The engine on real tiers: L2 a `RedisStore` over ioredis, L3 a mysql2 `SqlStore` on MariaDB.
 * Each test file gets its own Redis key prefix and its own table; `useEngineHarness` removes
 * exactly those (SCAN + UNLINK of the prefix, DROP of the table) and nothing else.
 */

/** `describe` that runs where both Redis and MariaDB/MySQL answer (skipped locally otherwise, failed on CI). */
export function describeWithRedisAndMysql(name: string, fn: () => void): void {
  describeWithRedis(name, () => describeWithMysql('on MariaDB/MySQL', fn))
}

/** A row of the items table as stored. */
export interface SqlRow {
  readonly id: string
  readonly version: number
  readonly tombstone: boolean
  readonly contentType: string
  /** The JSON text exactly as stored (`payload`, read as bytes so no driver re-parses it). */
  readonly payload: string | null
  /** Binary content (`payload_blob`). */
  readonly blob: Uint8Array | null
}

export interface OpenOptions {
  /** Wraps the L2 store the engine gets (to observe what the engine asks of it). */
  wrapL2?: (store: RedisStore) => L2Store
  /** Wraps the L3 store the engine gets. */
  wrapL3?: (store: L3Store) => L3Store
  /** The engine's platform (clock and timers); the real one by default. */
  platform?: Platform
  /** Circuit breaker options per tier. */
  breakers?: SyncEngineOptions['breakers']
}

export interface EngineHarness {
  /** This file's Redis key prefix (the RedisStore `prefix` and the config `redisPrefix`). */
  readonly prefix: string
  /** This file's SQL table. */
  readonly table: string
  /** A raw ioredis client, outside any engine. */
  readonly redis: Redis
  /** A started engine on this file's prefix and table; shut down after the test. */
  open(config?: SyncConfigInput, options?: OpenOptions): Promise<SyncEngine>
  /** The Redis key of an item's envelope. */
  itemKey(id: string): string
  /** Raw GET of the item key, decoded: undefined when the key does not exist. */
  l2Value(id: string): Promise<StoredRecord | CorruptValue | undefined>
  /** `sqlRow` for each id, in order. */
  sqlRows(ids: readonly string[]): Promise<(SqlRow | undefined)[]>
  /** How many of the ids have an item key in Redis (EXISTS over their keys). */
  redisExisting(ids: readonly string[]): Promise<number>
  /** PTTL of the item key (-2 missing, -1 no expiry). */
  pttl(id: string): Promise<number>
  /** Raw SELECT of the row by id, undefined when there is none. */
  sqlRow(id: string): Promise<SqlRow | undefined>
}

/** Registers the file's hooks and returns the harness. Call once, at the top of a suite. */
export function useEngineHarness(name: string): EngineHarness {
  const prefix = `test:engine-${name}-${randomBytes(4).toString('hex')}:`
  const tables = mysqlTables()
  const table = tables.next()
  const engines: SyncEngine[] = []
  const stores: { close(): Promise<void> }[] = []
  let redis: Redis | undefined
  let sql: Connection | undefined

  beforeAll(async () => {
    redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 })
    await redis.connect()
    sql = await createConnection({ uri: mysqlUrl() })
  })

  // Engines of one test never outlive it: their timers and connections would leak into the next.
  afterEach(async () => {
    const open = engines.splice(0)
    await Promise.allSettled(open.map((engine) => engine.shutdown()))
    // Closing twice is harmless for both transports; this only matters if the engine did not.
    await Promise.allSettled(stores.splice(0).map((store) => store.close()))
  })

  afterAll(async () => {
    try {
      if (redis) await unlinkMatching(redis, `${escapeGlob(prefix)}*`)
    } finally {
      redis?.disconnect()
      await sql?.end()
      await tables.dropAll()
    }
  })

  const raw = () => {
    if (!redis) throw new Error('harness used before beforeAll')
    return redis
  }
  const db = () => {
    if (!sql) throw new Error('harness used before beforeAll')
    return sql
  }
  const layout = new RedisKeyLayout(prefix)
  const itemKey = (id: string) => layout.itemKey(id)

  const sqlRow = async (id: string): Promise<SqlRow | undefined> => {
    const [rows] = await db().query<RowDataPacket[]>(
      `SELECT id, version, tombstone, content_type, CAST(payload AS BINARY) AS payload, payload_blob FROM \`${table}\` WHERE id = ?`,
      [id],
    )
    const row = rows[0]
    if (row === undefined) return undefined
    return {
      id: Buffer.from(row.id as Buffer).toString('utf8'),
      version: Number(row.version),
      tombstone: Number(row.tombstone) === 1,
      contentType: String(row.content_type),
      payload: row.payload === null ? null : Buffer.from(row.payload as Buffer).toString('utf8'),
      blob: row.payload_blob === null ? null : new Uint8Array(row.payload_blob as Buffer),
    }
  }

  return {
    prefix,
    table,
    get redis() {
      return raw()
    },
    itemKey,

    async open(config = {}, options = {}) {
      const redisStore = await openRedisStore(redisUrl(), { prefix })
      stores.push(redisStore)
      const mysqlStore = createMysqlStore({ url: mysqlUrl(), table })
      stores.push(mysqlStore)
      const l2 = options.wrapL2 ? options.wrapL2(redisStore) : redisStore
      const l3 = options.wrapL3 ? options.wrapL3(mysqlStore) : mysqlStore
      const engine = new SyncEngine({
        l2,
        l3,
        ...(options.breakers ? { breakers: options.breakers } : {}),
        config: { sqlTable: table, redisPrefix: prefix, ...config },
        ...(options.platform ? { platform: options.platform } : {}),
      })
      engines.push(engine)
      await engine.start()
      return engine
    },

    async l2Value(id) {
      const bytes = await raw().getBuffer(itemKey(id))
      if (bytes === null) return undefined
      return decodeEnvelope(id, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    },

    async sqlRows(ids) {
      return Promise.all(ids.map(sqlRow))
    },

    async redisExisting(ids) {
      return ids.length === 0 ? 0 : raw().exists(...ids.map(itemKey))
    },

    pttl(id) {
      return raw().pttl(itemKey(id))
    },

    sqlRow,
  }
}

/** SCAN + UNLINK of keys matching `pattern` (this file's prefix only; never FLUSHDB). */
async function unlinkMatching(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await redis.unlink(...keys)
  } while (cursor !== '0')
}

const POLL_INTERVAL_MS = 25
const POLL_ATTEMPTS = 400

/**
 * Polls `probe` until `accept` holds, at most POLL_ATTEMPTS times (a bounded loop, ~10 s), and
 * returns the accepted value. Fails naming `what` and the last value seen. Nothing here asserts
 * how long it took.
 */
export async function eventually<T, U extends T>(
  what: string,
  probe: () => Promise<T>,
  accept: (value: T) => value is U,
): Promise<U>
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
): Promise<T>
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
): Promise<T> {
  let last: T | undefined
  for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt++) {
    last = await probe()
    if (accept(last)) return last
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
  }
  throw new Error(`${what}: not reached after ${POLL_ATTEMPTS} polls; last value ${show(last)}`)
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v))
  } catch {
    return String(value)
  }
}

/** A record read from L2 that decoded (not corrupt, present). */
export function isRecord(value: L2Value | undefined): value is StoredRecord {
  return value !== undefined && !isCorrupt(value)
}

/** Records every write the engine sends to L2, delegating everything to the real store. */
export class RecordingL2 implements L2Store {
  readonly writes: L2WriteEntry[] = []
  readonly reads: string[][] = []

  constructor(readonly inner: L2Store) {}

  get driver() {
    return this.inner.driver
  }
  get capabilities() {
    return this.inner.capabilities
  }
  init() {
    return this.inner.init()
  }
  write(entries: readonly L2WriteEntry[]): Promise<L2WriteResult> {
    this.writes.push(...entries)
    return this.inner.write(entries)
  }
  read(ids: readonly string[]) {
    this.reads.push([...ids])
    return this.inner.read(ids)
  }
  head(ids: readonly string[]) {
    return this.inner.head(ids)
  }
  delete(ids: readonly string[]) {
    return this.inner.delete(ids)
  }
  scanPrefix(prefix: string, options?: { cursor?: string; limit?: number }) {
    return this.inner.scanPrefix(prefix, options)
  }
  countPrefix(prefix: string) {
    return this.inner.countPrefix(prefix)
  }
  ping() {
    return this.inner.ping()
  }
  close() {
    return this.inner.close()
  }
}

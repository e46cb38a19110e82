import { randomBytes } from 'node:crypto'
import { escapeGlob, RedisKeyLayout, redactUrl } from '@sync-engine/core/internal'
import { Redis } from 'ioredis'
import { type Connection, createConnection } from 'mysql2/promise'

/**
 * The real services the L2/L3 scenarios run against, isolated per run: every Redis key this run
 * writes starts with one unique prefix, and every MariaDB table it creates has a unique name. At
 * the end (and on Ctrl-C) the keys under that prefix are deleted with SCAN + UNLINK — never
 * FLUSHALL, the server may be shared — and the tables are dropped.
 *
 * A service that does not answer is not an error: the scenarios that need it are skipped and the
 * report says why.
 */

const PROBE_TIMEOUT_MS = 2_000

export const REDIS_URL = process.env.SYNC_BENCH_REDIS_URL || 'redis://127.0.0.1:6379'
export const MYSQL_URL = process.env.SYNC_BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test'

export interface Unavailable {
  readonly available: false
  readonly label: string
  /** Why, for the report (the URL without credentials). */
  readonly reason: string
}

export interface RedisService {
  readonly available: true
  readonly label: 'Redis'
  readonly url: string
  /** `INFO server` redis_version. */
  readonly version: string
  /** A fresh key prefix under this run's prefix (deleted at the end of the run). */
  prefix(label: string): string
  /** A plain ioredis client on the same server (defaults; closed at the end of the run). */
  client(): Promise<Redis>
  /** Deletes every key under `prefix` (one of ours): SCAN + UNLINK of that prefix only. */
  deletePrefix(prefix: string): Promise<number>
  /**
   * How many item keys exist under `prefix` (SCAN): keys of the layout's own (its `x:layout`
   * record, an outbox) are not items and are not counted.
   */
  countItemKeys(prefix: string): Promise<number>
  /**
   * Commands per second the server processes for other clients, sampled over `ms` while this
   * process sends nothing (the caller makes sure of that): a shared server adds that much noise.
   */
  foreignLoad(ms?: number): Promise<number>
}

export interface MysqlService {
  readonly available: true
  readonly label: 'MariaDB'
  readonly url: string
  /** `SELECT VERSION()`. */
  readonly version: string
  /** A fresh table name for this run (dropped at the end of the run, or by `dropTable`). */
  table(label: string): string
  /** A plain mysql2 connection (closed at the end of the run). */
  connection(): Promise<Connection>
  dropTable(table: string): Promise<void>
}

export interface Services {
  /** Unique per run: part of every key prefix and table name. */
  readonly runId: string
  readonly redis: RedisService | Unavailable
  readonly mysql: MysqlService | Unavailable
  /** For the report header. */
  versions(): Record<string, string>
  /** Deletes this run's keys and tables, closes every client. Safe to call twice. */
  cleanup(): Promise<void>
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error)
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message
}

/** A Redis client that fails fast instead of retrying forever when the server is not there. */
function redisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  return client
}

class RedisHandle implements RedisService {
  readonly available = true
  readonly label = 'Redis'
  readonly #clients: Redis[] = []
  readonly #prefixes: string[] = []
  #counter = 0

  constructor(
    readonly url: string,
    readonly version: string,
    readonly runPrefix: string,
    admin: Redis,
  ) {
    this.#clients.push(admin)
  }

  prefix(label: string): string {
    const prefix = `${this.runPrefix}${label}${++this.#counter}:`
    this.#prefixes.push(prefix)
    return prefix
  }

  async client(): Promise<Redis> {
    const client = redisClient(this.url)
    await client.connect()
    this.#clients.push(client)
    return client
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.startsWith(this.runPrefix)) throw new Error(`refusing to delete ${prefix}: not this run's`)
    let deleted = 0
    await this.#scan(prefix, async (keys) => {
      deleted += await this.#clients[0]!.unlink(...keys)
    })
    return deleted
  }

  async countItemKeys(prefix: string): Promise<number> {
    const layout = new RedisKeyLayout(prefix)
    const seen = new Set<string>()
    await this.#scan(prefix, async (keys) => {
      for (const key of keys) if (layout.idOfItemKey(key) !== undefined) seen.add(key)
    })
    return seen.size
  }

  async foreignLoad(ms = 250): Promise<number> {
    const admin = this.#clients[0]!
    const processed = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))?.[1] ?? Number.NaN)
    const before = await processed()
    const t0 = performance.now()
    await new Promise((resolve) => setTimeout(resolve, ms))
    const after = await processed()
    // The second INFO is counted in `after`; nothing else of ours ran in between.
    return Math.max(0, after - before - 1) / ((performance.now() - t0) / 1000)
  }

  async #scan(prefix: string, each: (keys: string[]) => Promise<void>): Promise<void> {
    const admin = this.#clients[0]!
    let cursor = '0'
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await each(keys)
    } while (cursor !== '0')
  }

  async cleanup(): Promise<void> {
    try {
      // On Ctrl-C a write may still land behind the scan: pass again until a pass finds nothing.
      for (let pass = 0; pass < 3 && (await this.deletePrefix(this.runPrefix)) > 0; pass++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } finally {
      for (const client of this.#clients.splice(0)) client.disconnect()
    }
  }
}

class MysqlHandle implements MysqlService {
  readonly available = true
  readonly label = 'MariaDB'
  readonly #connections: Connection[] = []
  readonly #tables = new Set<string>()
  #counter = 0

  constructor(
    readonly url: string,
    readonly version: string,
    readonly runTag: string,
    admin: Connection,
  ) {
    this.#connections.push(admin)
  }

  table(label: string): string {
    const table = `bench_${this.runTag}_${label}${++this.#counter}`
    if (table.length > 63) throw new Error(`table name too long: ${table}`)
    this.#tables.add(table)
    return table
  }

  async connection(): Promise<Connection> {
    // jsonStrings: MariaDB flags a JSON_VALID-checked LONGTEXT as JSON; read the text as stored.
    const connection = await createConnection({
      uri: this.url,
      connectTimeout: PROBE_TIMEOUT_MS,
      jsonStrings: true,
    })
    connection.on('error', () => {})
    this.#connections.push(connection)
    return connection
  }

  async dropTable(table: string): Promise<void> {
    if (!this.#tables.has(table)) throw new Error(`refusing to drop ${table}: not this run's`)
    await this.#connections[0]!.query(`DROP TABLE IF EXISTS \`${table}\``)
    this.#tables.delete(table)
  }

  async cleanup(): Promise<void> {
    try {
      for (const table of [...this.#tables]) await this.dropTable(table)
    } finally {
      for (const connection of this.#connections.splice(0)) connection.destroy()
    }
  }
}

async function probeRedis(runId: string): Promise<RedisHandle | Unavailable> {
  const client = redisClient(REDIS_URL)
  // ioredis rejects connect() with "Connection is closed"; the cause (ECONNREFUSED…) comes as an event.
  let cause: unknown
  client.on('error', (error: unknown) => {
    cause ??= error
  })
  try {
    await client.connect()
    const info = await client.info('server')
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown'
    return new RedisHandle(REDIS_URL, version, `sync-bench:${runId}:`, client)
  } catch (error) {
    client.disconnect()
    return {
      available: false,
      label: 'Redis',
      reason: `${redactUrl(REDIS_URL)}: ${describe(cause ?? error)}`,
    }
  }
}

async function probeMysql(runId: string): Promise<MysqlHandle | Unavailable> {
  try {
    const connection = await createConnection({ uri: MYSQL_URL, connectTimeout: PROBE_TIMEOUT_MS })
    connection.on('error', () => {})
    const [rows] = await connection.query('SELECT VERSION() AS v')
    const version = String((rows as { v: string }[])[0]?.v ?? 'unknown')
    return new MysqlHandle(MYSQL_URL, version, runId, connection)
  } catch (error) {
    return { available: false, label: 'MariaDB', reason: `${redactUrl(MYSQL_URL)}: ${describe(error)}` }
  }
}

export async function openServices(): Promise<Services> {
  // Short enough for table names (bench_<runId>_<label><n> ≤ 63), unique enough for a shared server.
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  const [redis, mysql] = await Promise.all([probeRedis(runId), probeMysql(runId)])
  let cleaning: Promise<void> | undefined
  return {
    runId,
    redis,
    mysql,
    versions() {
      return {
        Redis: redis.available ? redis.version : 'unreachable',
        MariaDB: mysql.available ? mysql.version : 'unreachable',
      }
    },
    cleanup() {
      cleaning ??= Promise.allSettled([
        redis.available ? (redis as RedisHandle).cleanup() : undefined,
        mysql.available ? (mysql as MysqlHandle).cleanup() : undefined,
      ]).then((results) => {
        const failed = results.find((r) => r.status === 'rejected')
        if (failed) throw (failed as PromiseRejectedResult).reason
      })
      return cleaning
    },
  }
}

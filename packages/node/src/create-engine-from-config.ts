import {
  ConfigError,
  DEFAULT_FLUSH_RESERVE_MS,
  ENV_VARS,
  type FlushOutboxReport,
  flushOutbox,
  type L3Store,
  type Logger,
  RedisOutbox,
  RedisStore,
  type SyncConfig,
  SyncEngine,
  silentLogger,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import { sqlitePathFor, sqlUrlScheme, walPathFor } from './sqlite-path.ts'

/**
 * An engine (not started) on the tiers the config names: L3 from `sqlUrl` (unset or `sqlite:` →
 * SQLite, `mysql://` / `mariadb://` → MySQL or MariaDB), L2 from `redisUrl` (unset → no L2), and
 * the write-ahead log in `<dataDir>/wal.db` (ack `logged`, replay after a crash, L3 outages) — or,
 * with `log: 'redis'`, the Redis outbox in L2, drained by `sync-engine flush-outbox`.
 * Throws `ConfigError` for an unknown scheme before opening anything; URLs are never quoted.
 * Nothing here waits for a server: both tiers connect in `engine.start()`, where an unreachable
 * one degrades the engine and a permanent refusal (wrong password, unknown database) fails it.
 */
export async function createEngineFromConfig(
  config: SyncConfig,
  logger: Logger = silentLogger,
): Promise<SyncEngine> {
  const l3 = l3For(config)
  const l2 = config.redisUrl === undefined ? undefined : await l2For(config)
  if (config.log === 'redis') {
    if (!l2) {
      throw new ConfigError(
        `log (${ENV_VARS.log}) 'redis' keeps writes in the Redis outbox: set redisUrl (${ENV_VARS.redisUrl})`,
        ['log'],
      )
    }
    const outbox = new RedisOutbox(l2, { maxBytes: config.walMaxBytes })
    return new SyncEngine({ config, l3, l2, outbox, logger })
  }
  const wal = new SqliteWriteAheadLog({ path: walPathFor(config), maxBytes: config.walMaxBytes })
  return new SyncEngine({ config, l3, wal, ...(l2 ? { l2 } : {}), logger })
}

/**
 * One run of the outbox flusher from the config (`sync-engine flush-outbox`): connects to the
 * Redis and SQL the config names (both required), checks the outbox is tied to that SQL (an
 * outbox written for another database refuses with `LogTargetMismatchError`), drains it within
 * `maxMs`, and closes both.
 */
export async function flushOutboxFromConfig(
  config: SyncConfig,
  options: { maxMs: number; logger?: Logger },
): Promise<FlushOutboxReport> {
  if (config.redisUrl === undefined) {
    throw new ConfigError(`the outbox lives in Redis: set redisUrl (${ENV_VARS.redisUrl})`, ['redisUrl'])
  }
  // Not the embedded default: a flusher run from another directory would drain into a file there.
  if (config.sqlUrl === undefined) {
    throw new ConfigError(`name the database the outbox drains into: set sqlUrl (${ENV_VARS.sqlUrl})`, [
      'sqlUrl',
    ])
  }
  const logger = options.logger ?? silentLogger
  const deadline = Date.now() + options.maxMs
  const l2 = await l2For(config)
  const l3 = l3For(config)
  try {
    await l2.init()
    await l3.init()
    const outbox = new RedisOutbox(l2, { maxBytes: config.walMaxBytes })
    // A flusher never re-ties the outbox: a shard tied to another database refuses the run.
    await outbox.verify(l3.identity)
    const reserveMs = Math.min(DEFAULT_FLUSH_RESERVE_MS, options.maxMs / 5)
    return await flushOutbox({ outbox, l3, remainingMs: () => deadline - Date.now(), reserveMs, logger })
  } finally {
    await Promise.allSettled([l2.close(), l3.close()])
  }
}

function l3For(config: SyncConfig): L3Store {
  const scheme = config.sqlUrl === undefined ? 'sqlite' : sqlUrlScheme(config.sqlUrl)
  if (scheme === 'mysql' || scheme === 'mariadb') {
    return createMysqlStore({ url: config.sqlUrl!.replace(/^mariadb:/i, 'mysql:'), table: config.sqlTable })
  }
  return createSqliteStore({ path: sqlitePathFor(config), table: config.sqlTable })
}

async function l2For(config: SyncConfig): Promise<RedisStore> {
  const url = config.redisUrl!
  if (!/^rediss?:\/\//i.test(url)) {
    throw new ConfigError(`redisUrl (${ENV_VARS.redisUrl}) must be a redis:// or rediss:// URL`, ['redisUrl'])
  }
  // Not waiting for the server: an unreachable Redis at start degrades the engine (it connects L2
  // later, through its breaker) instead of failing it; a refused password still fails the start,
  // as a BackendConfigError from the store's init().
  const transport = await IoredisTransport.create({ url, waitForConnect: false })
  return new RedisStore(transport, {
    prefix: config.redisPrefix,
    shards: config.redisShards,
    tombstoneRetentionMs: config.tombstoneRetentionMs,
    searchProjections: config.searchBackend === 'redis',
  })
}

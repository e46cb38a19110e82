import {
  ConfigError,
  ENV_VARS,
  type L2Store,
  type L3Store,
  type Logger,
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
 * the write-ahead log in `<dataDir>/wal.db` (ack `logged`, replay after a crash, L3 outages).
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
  const wal = new SqliteWriteAheadLog({ path: walPathFor(config), maxBytes: config.walMaxBytes })
  return new SyncEngine({ config, l3, wal, ...(l2 ? { l2 } : {}), logger })
}

function l3For(config: SyncConfig): L3Store {
  const scheme = config.sqlUrl === undefined ? 'sqlite' : sqlUrlScheme(config.sqlUrl)
  if (scheme === 'mysql' || scheme === 'mariadb') {
    return createMysqlStore({ url: config.sqlUrl!.replace(/^mariadb:/i, 'mysql:'), table: config.sqlTable })
  }
  return createSqliteStore({ path: sqlitePathFor(config), table: config.sqlTable })
}

async function l2For(config: SyncConfig): Promise<L2Store> {
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
    tombstoneRetentionMs: config.tombstoneRetentionMs,
  })
}

import { type Logger, type SyncConfig, SyncEngine, silentLogger } from '@sync-engine/core'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { sqlitePathFor } from './sqlite-path.ts'

/**
 * An engine (not started) on the L3 that `config.sqlUrl` names; see `sqlitePathFor`. Throws
 * `ConfigError` for a driver this release does not have, before opening anything.
 */
export function createEngineFromConfig(config: SyncConfig, logger: Logger = silentLogger): SyncEngine {
  const path = sqlitePathFor(config)
  const l3 = createSqliteStore({ path, table: config.sqlTable })
  return new SyncEngine({ config, l3, logger })
}

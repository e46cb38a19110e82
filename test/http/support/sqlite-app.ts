import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type L3Store,
  type Logger,
  type SyncConfigInput,
  SyncEngine,
  type SyncEngineOptions,
} from '@sync-engine/core'
import { createApp } from '@sync-engine/http'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import type { Hono } from 'hono'

export interface SqliteApp<S extends L3Store = L3Store> {
  readonly engine: SyncEngine
  readonly app: Hono
  /** The L3 the engine writes to: the SQLite store, or the wrapper `wrapL3` made of it. */
  readonly l3: S
  readonly dbPath: string
}

/**
 * An engine as the Node server builds it (SQLite L3 in `<dir>/sync.db`, the write-ahead log in
 * `<dir>/wal.db`), built here so that a test can wrap the L3 (an outage) or reopen the same files
 * with an empty L1; and the app on top of it. Started; the caller shuts it down.
 */
export async function openSqliteApp<S extends L3Store = L3Store>(
  dir: string,
  options: {
    config?: SyncConfigInput
    wrapL3?: (store: L3Store) => S
    logger?: Logger
    breakers?: SyncEngineOptions['breakers']
  } = {},
): Promise<SqliteApp<S>> {
  const dbPath = join(dir, 'sync.db')
  const store = createSqliteStore({ path: dbPath })
  const l3 = options.wrapL3 ? options.wrapL3(store) : (store as unknown as S)
  const wal = new SqliteWriteAheadLog({ path: join(dir, 'wal.db'), maxBytes: 64 * 1024 * 1024 })
  const engine = new SyncEngine({
    config: { dataDir: dir, ...options.config },
    l3,
    wal,
    ...(options.breakers ? { breakers: options.breakers } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  })
  await engine.start()
  const app = createApp({
    engine,
    config: { apiTokens: [] },
    ...(options.logger ? { logger: options.logger } : {}),
  })
  return { engine, app, l3, dbPath }
}

/** A temp directory and its removal, for one test file's engines. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'sync-http-app-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

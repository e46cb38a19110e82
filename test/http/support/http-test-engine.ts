import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Logger,
  parseConfig,
  type SyncConfig,
  type SyncConfigInput,
  type SyncEngine,
} from '@sync-engine/core'
import { createApp } from '@sync-engine/http'
import { createEngineFromConfig } from '@sync-engine/node'
import Database from 'better-sqlite3'
import type { Hono } from 'hono'

export interface HttpTestEngine {
  readonly dir: string
  readonly dbPath: string
  readonly config: SyncConfig
  readonly engine: SyncEngine
  readonly app: Hono
  /** Shuts the engine down and removes the temp directory. */
  dispose(): Promise<void>
}

/** A fresh temp directory for one test file (removed by the caller). */
export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sync-http-test-'))
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true })
}

/** A started engine on a real SQLite file in its own temp directory, and the app on top of it. */
export async function openHttpTestEngine(
  overrides: SyncConfigInput = {},
  logger?: Logger,
): Promise<HttpTestEngine> {
  const dir = await makeTempDir()
  const config = parseConfig({ dataDir: dir, ...overrides })
  const engine = await createEngineFromConfig(config)
  await engine.start()
  const app = createApp({ engine, config, ...(logger ? { logger } : {}) })
  return {
    dir,
    dbPath: join(dir, 'sync.db'),
    config,
    engine,
    app,
    async dispose() {
      await engine.shutdown()
      await removeDir(dir)
    },
  }
}

/** Ids in the SQLite file itself (tombstones included), read through a second connection. */
export function sqliteIds(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true })
  try {
    return (db.prepare('SELECT id FROM sync_items ORDER BY id').all() as { id: string }[]).map(
      (row) => row.id,
    )
  } finally {
    db.close()
  }
}

/**
 * Everything the engine holds: ids in L1, the write-queue depth and the ids in the SQLite file.
 * Two equal snapshots around a rejected request prove it stored nothing, anywhere.
 */
export async function storedSnapshot(t: HttpTestEngine) {
  const health = await t.engine.health()
  return {
    l1: t.engine
      .l1Snapshot()
      .entries.map((entry) => entry.id)
      .sort(),
    queued: health.queue.depth,
    sqlite: sqliteIds(t.dbPath),
  }
}

import { join } from 'node:path'
import { PartitionedStore, SyncEngine, SyncItem, sqliteDialect } from '@sync-engine/core/internal'
import { BetterSqlite3Transport } from '@sync-engine/sql-sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'

const dir = makeTempDir('admin-job-deadline')
afterAll(() => dir.remove())

/** A transport that states a 1 ms call deadline: the catalog wait is then the refresh interval plus ~1 s. */
class QuickDeadlineTransport extends BetterSqlite3Transport {
  readonly deadlineMs = 1
}

/**
 * On a database other instances share, defining an index or registering a partition waits for
 * them to re-read the catalog (a refresh interval, the transport's deadline and a second) before
 * it backfills or sweeps: longer than one L3 call may take. The job must not be cut off at that
 * call deadline (with the defaults, 16 s of waiting against a 10 s deadline failed every define on
 * MariaDB).
 */
describe('admin jobs on a shared database', () => {
  it('define an index and register a partition past the L3 call deadline', async () => {
    // SQLite taken as a shared server (as MariaDB is), so the jobs wait for the catalog refresh.
    const shared = { ...sqliteDialect, sharedServer: true }
    const store = new PartitionedStore(
      new QuickDeadlineTransport(join(dir.path, 'jobs.db')),
      shared,
      'items',
      {
        catalogRefreshMs: 100,
      },
    )
    const engine = new SyncEngine({ l3: store, breakers: { l3: { deadlineMs: 300 } } })
    await engine.start()
    try {
      await engine.submit(SyncItem.fromJson('user:1', { plan: 'pro' }), { ack: 'stored' })
      const { created } = await engine.defineIndex({
        name: 'users',
        prefix: 'user:',
        fields: { plan: { type: 'tag', path: '$.plan' } },
      })
      expect(created).toBe(true)
      expect((await engine.indexStatus('users')).state).toBe('ready')
      const page = await engine.search({
        index: 'users',
        query: { tags: { field: 'plan', any: ['pro'] } },
      })
      expect(page.items.map((item) => item.id)).toEqual(['user:1'])
      expect((await engine.registerPartition('order:')).created).toBe(true)
      // The breaker saw successful calls, not deadline failures.
      const breaker = (await engine.health()).breakers.l3
      expect(breaker.state).toBe('closed')
      expect(breaker.failures).toBe(0)
    } finally {
      await engine.shutdown()
    }
  })
})

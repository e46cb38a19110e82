import { join } from 'node:path'
import { SyncEngine, SyncItem } from '@sync-engine/core'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import Database from 'better-sqlite3'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { driveUntilSettled, FakePlatform, macrotask } from '../../support/fake-platform.ts'
import { makeTempDir } from '../../support/temp-dir.ts'

/**
 * The library's default engine — SQLite as L3, nothing else — as a new user meets it: a TTL is the
 * item's lifetime there too (a Keyv-style cache on SQLite alone), an awaited write does not wait
 * for the batch timer, and the stored rows say what the engine promised.
 */

const dir = makeTempDir('embedded-default')
afterAll(() => dir.remove())
let files = 0
const open: SyncEngine[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((engine) => engine.shutdown()))
})

async function engineOn(path: string, platform = new FakePlatform(), config = {}): Promise<SyncEngine> {
  const engine = new SyncEngine({ l3: createSqliteStore({ path }), platform, config })
  open.push(engine)
  await driveUntilSettled(platform, engine.start())
  return engine
}

const newPath = () => join(dir.path, `default-${++files}.db`)

describe('a TTL on the embedded default', () => {
  it('expires the item in L3 too: get, getMany, contains and a fresh engine all miss it afterwards', async () => {
    const path = newPath()
    const platform = new FakePlatform()
    const engine = await engineOn(path, platform)
    await driveUntilSettled(
      platform,
      engine.submit(SyncItem.fromJson('session', { u: 1 }), { redisTtl: 1_000 }),
    )
    expect((await engine.get('session'))?.json()).toEqual({ u: 1 })
    // The row carries its expiry, so an engine with nothing in memory knows it too.
    const row = new Database(path, { readonly: true })
      .prepare('SELECT expires_at FROM sync_items WHERE id = ?')
      .get('session') as { expires_at: number | null }
    expect(row.expires_at).toBe(platform.now() + 1_000)
    platform.advance(1_000)
    expect(await engine.get('session')).toBeUndefined()
    expect(await engine.getMany(['session'])).toEqual([undefined])
    expect(await engine.contains('session')).toBe(false)
    expect(await engine.status('session')).toEqual({ kind: 'missing' })
    const fresh = await engineOn(path, platform)
    expect(await fresh.get('session')).toBeUndefined()
  })

  it('keeps an item without a TTL, and one whose TTL has not run out', async () => {
    const platform = new FakePlatform()
    const engine = await engineOn(newPath(), platform)
    await driveUntilSettled(platform, engine.submit(SyncItem.fromJson('kept', 1)))
    await driveUntilSettled(platform, engine.submit(SyncItem.fromJson('later', 2), { redisTtl: 60_000 }))
    platform.advance(59_999)
    expect((await engine.getMany(['kept', 'later'])).map((item) => item?.json())).toEqual([1, 2])
  })

  it('a queued write whose TTL ran out before its flush reads as absent through get and getMany alike', async () => {
    const platform = new FakePlatform()
    const engine = await engineOn(newPath(), platform, { batchFlushMs: 60_000 })
    await engine.submit(SyncItem.fromJson('brief', 'x'), { redisTtl: 30, ack: 'queued' })
    platform.setTime(platform.now() + 80)
    expect(await engine.get('brief')).toBeUndefined()
    expect(await engine.getMany(['brief'])).toEqual([undefined])
  })

  it('purges expired rows into tombstones that keep the version (an older write cannot resurrect them)', async () => {
    const path = newPath()
    const platform = new FakePlatform()
    const engine = await engineOn(path, platform)
    const receipt = await driveUntilSettled(
      platform,
      engine.submit(SyncItem.fromJson('gone', 1), { redisTtl: 1_000 }),
    )
    // Maintenance purges at most hourly, after writes: let an hour pass, then write something.
    platform.advance(3_600_000)
    await driveUntilSettled(platform, engine.submit(SyncItem.fromJson('other', 2)))
    platform.advance(200)
    await macrotask()
    const row = new Database(path, { readonly: true })
      .prepare('SELECT version, tombstone, payload, expires_at FROM sync_items WHERE id = ?')
      .get('gone') as {
      version: number
      tombstone: number
      payload: string | null
      expires_at: number | null
    }
    expect(row).toEqual({ version: receipt.version, tombstone: 1, payload: null, expires_at: null })
    await expect(
      driveUntilSettled(
        platform,
        engine.submit(SyncItem.fromJson('gone', 'zombie', { version: receipt.version - 1 })),
      ),
    ).rejects.toMatchObject({ code: 'STALE_VERSION', currentVersion: receipt.version })
    expect(await engine.get('gone')).toBeUndefined()
  })
})

describe('an awaited write on the embedded default', () => {
  it('is stored without waiting for the batch timer (group commit): no timer has to fire', async () => {
    const platform = new FakePlatform()
    const engine = await engineOn(newPath(), platform, { batchFlushMs: 60_000 })
    for (let i = 0; i < 20; i++) {
      let done = false
      const write = engine.submit(SyncItem.fromJson(`seq:${i}`, i)).then((receipt) => {
        done = true
        return receipt
      })
      // The fake clock never moves here: only a flush that does not wait for a timer can settle it.
      for (let turn = 0; turn < 5 && !done; turn++) await macrotask()
      expect(done, `write ${i} settled without the clock moving`).toBe(true)
      expect((await write).ack).toBe('stored')
    }
    expect((await engine.health()).queue.depth).toBe(0)
  })

  it('concurrent awaited writes share flushes, and queued writes still wait for the timer', async () => {
    const platform = new FakePlatform()
    const engine = await engineOn(newPath(), platform, { batchFlushMs: 60_000 })
    await engine.submit(SyncItem.fromJson('lazy', 0), { ack: 'queued' })
    const receipts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => engine.submit(SyncItem.fromJson(`burst:${i}`, i))),
    )
    expect(receipts.every((receipt) => receipt.ack === 'stored')).toBe(true)
    expect((await engine.status('burst:7')).kind).toBe('synced')
    // The queued write went with the first awaited flush (whatever was queued meanwhile goes too).
    expect((await engine.status('lazy')).kind).toBe('synced')
    await engine.submit(SyncItem.fromJson('lazy-2', 0), { ack: 'queued' })
    for (let turn = 0; turn < 5; turn++) await macrotask()
    expect((await engine.status('lazy-2')).kind).toBe('pending')
  })

  it('a logged write is acknowledged once in the log, and flushed by the timer', async () => {
    const platform = new FakePlatform()
    const engine = new SyncEngine({
      l3: createSqliteStore({ path: newPath() }),
      wal: new SqliteWriteAheadLog({ path: join(dir.path, `wal-${++files}.db`), maxBytes: 1 << 24 }),
      platform,
      config: { batchFlushMs: 60_000 },
    })
    open.push(engine)
    await driveUntilSettled(platform, engine.start())
    expect((await engine.submit(SyncItem.fromJson('l', 1))).ack).toBe('logged')
    expect((await engine.status('l')).kind).toBe('pending')
    platform.advance(60_000)
    await macrotask()
    expect((await engine.status('l')).kind).toBe('synced')
  })
})
